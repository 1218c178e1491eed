import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `fake-openai-realtime`: a stand-in for OpenAI's Realtime API in transcription sessions, for
/// tests and for developing without provider keys. Prints its URL on stdout once it listens.
@main
struct FakeOpenAIRealtimeMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-openai-realtime", abstract: "A fake OpenAI Realtime transcription endpoint (/v1/realtime) for tests.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 0
    @Option(name: .customLong("api-key"), help: "A key the fake accepts (repeatable).") var apiKeys: [String] = []
    @Option(name: .customLong("log-level")) var logLevel = "warning"

    func validate() throws {
        guard !apiKeys.isEmpty else { throw ValidationError("give at least one --api-key") }
    }

    func run() async throws {
        var logger = Logger(label: "fake-openai-realtime")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        var options = FakeOpenAIRealtimeServer.Options()
        options.host = host
        options.port = port
        options.keys = Set(apiKeys)
        let host = self.host
        let app = FakeOpenAIRealtimeServer.buildApplication(options: options, logger: logger) { channel in
            let bound = channel.localAddress?.port ?? 0
            FileHandle.standardOutput.write(
                Data("fake-openai-realtime listening on ws://\(host):\(bound)\(FakeOpenAIRealtimeServer.path)\n".utf8))
        }
        try await app.runService()
    }
}
