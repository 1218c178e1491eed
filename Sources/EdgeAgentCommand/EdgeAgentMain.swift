import EdgeAgent
import Foundation

@main
struct EdgeAgentMain {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.contains("--version") {
            print("edge-agent")
            print("ALSA \(NativeLibraries.alsaVersion), \(NativeLibraries.opusVersion), libogg \(NativeLibraries.oggAvailable ? "ok" : "unavailable")")
            return
        }
        let configuration: EdgeConfiguration
        do {
            configuration = try EdgeConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("edge-agent: \(error)\n".utf8))
            exit(2)
        }
        if arguments.contains("--check") {
            let healthy: Bool
            do {
                let http = try CentralClient.makeHTTPClient(caFile: configuration.centralCAFile)
                let check = SupportCheck(
                    configuration: configuration, audio: ALSAAudioSource(),
                    central: CentralClient(baseURL: configuration.centralURL, licenseKey: configuration.licenseKey, client: http))
                healthy = await check.run { print($0) }
                try? await http.shutdown()
            } catch {
                print("edge-agent: \(error)")
                healthy = false
            }
            exit(healthy ? 0 : 1)
        }
        // Capture, the link to central and the local page arrive with the rest of the edge issue.
        FileHandle.standardError.write(Data("edge-agent: streaming is not in this build yet; `edge-agent --check` works.\n".utf8))
        exit(3)
    }
}
