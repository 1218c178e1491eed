import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `fake-llm`: an OpenAI-compatible chat-completions upstream for tests and development.
/// Prints its base URL on stdout once it listens.
@main
struct FakeLLMMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-llm", abstract: "A fake OpenAI-compatible chat upstream (/v1/chat/completions, /v1/models) for tests.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 0
    @Option(name: .customLong("api-key"), help: "A key the fake accepts (repeatable).") var apiKeys: [String] = []
    @Option(name: .customLong("log-level")) var logLevel = "warning"

    func validate() throws {
        guard !apiKeys.isEmpty else { throw ValidationError("give at least one --api-key") }
    }

    func run() async throws {
        var logger = Logger(label: "fake-llm")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        var options = FakeLLMServer.Options()
        options.host = host
        options.port = port
        options.keys = Set(apiKeys)
        let host = self.host
        let app = FakeLLMServer.buildApplication(options: options, logger: logger) { channel in
            let bound = channel.localAddress?.port ?? 0
            FileHandle.standardOutput.write(Data("fake-llm listening on http://\(host):\(bound)/v1\n".utf8))
        }
        try await app.runService()
    }
}
