import AsyncHTTPClient
import EdgeAgent
import Foundation
import Hummingbird
import Logging

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
        var configuredLogger = Logger(label: "edge-agent")
        configuredLogger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info") ?? .info
        let logger = configuredLogger
        let http: HTTPClient
        do {
            http = try CentralClient.makeHTTPClient(caFile: configuration.centralCAFile)
        } catch {
            FileHandle.standardError.write(Data("edge-agent: \(error)\n".utf8))
            exit(1)
        }
        do {
            let central = CentralClient(baseURL: configuration.centralURL, licenseKey: configuration.licenseKey, client: http)
            if arguments.contains("--check") {
                let healthy = await SupportCheck(configuration: configuration, audio: ALSAAudioSource(), central: central).run { print($0) }
                try? await http.shutdown()
                exit(healthy ? 0 : 1)
            }
            let tls = configuration.centralURL.scheme == "https" ? try CentralClient.makeTLSConfiguration(caFile: configuration.centralCAFile) : nil
            let deviceID = try DeviceIdentity.load(dataDirectory: configuration.dataDirectory)
            let controller = TranslationController(
                configuration: configuration, audio: ALSAAudioSource(), central: central, deviceID: deviceID, logger: logger,
                makeLink: { CentralLink(central: central, tls: tls, deviceID: deviceID, logger: logger) })
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: logger)
            logger.info("edge-agent serving", metadata: ["page": "http://localhost:\(configuration.port)", "central": "\(configuration.centralURL)"])
            try await app.runService()
            try? await http.shutdown()
        } catch {
            // An HTTP client must be shut down before it goes away, on every path.
            try? await http.shutdown()
            FileHandle.standardError.write(Data("edge-agent: \(error)\n".utf8))
            exit(1)
        }
    }
}
