import EdgeAgent
import Foundation

/// Skeleton entry point: reports the linked libraries and validates its configuration.
/// Capture, encoding and the link to central arrive with the edge agent issue.
@main
struct EdgeAgentMain {
    static func main() {
        if CommandLine.arguments.contains("--version") {
            print("edge-agent (skeleton)")
            print("ALSA \(NativeLibraries.alsaVersion), \(NativeLibraries.opusVersion), libogg \(NativeLibraries.oggAvailable ? "ok" : "unavailable")")
            return
        }
        do {
            _ = try EdgeAgentConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
            FileHandle.standardError.write(Data("edge-agent: this build is a skeleton; streaming is not implemented yet.\n".utf8))
            exit(3)
        } catch {
            FileHandle.standardError.write(Data("edge-agent: \(error)\n".utf8))
            exit(2)
        }
    }
}
