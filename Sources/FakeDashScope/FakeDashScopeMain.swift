import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `fake-dashscope`: a stand-in for DashScope's realtime inference endpoint, for tests and for
/// developing without provider keys. Prints its URL on stdout once it listens.
@main
struct FakeDashScopeMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-dashscope",
        abstract: "A fake DashScope realtime speech endpoint (Gummy, Paraformer, Fun-ASR) for tests.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 0
    @Option(name: .customLong("api-key"), help: "A key the fake accepts (repeatable).") var apiKeys: [String] = []
    @Option(name: .customLong("bad-key-mode"), help: "Refuse a bad key at the 'upgrade' (default) or with 'task-failed'.")
    var badKeyMode = "upgrade"
    @Option(name: .customLong("result-delay-ms"), help: "Delay before every result, to act slow.") var resultDelayMs = 0
    @Option(name: .customLong("silence-timeout"), help: "Seconds without data before the task fails (DashScope: 23).")
    var silenceTimeout = 23.0
    @Option(name: .customLong("log-level")) var logLevel = "warning"

    func validate() throws {
        guard ["upgrade", "task-failed"].contains(badKeyMode) else { throw ValidationError("--bad-key-mode is upgrade or task-failed") }
        guard !apiKeys.isEmpty else { throw ValidationError("give at least one --api-key") }
    }

    func run() async throws {
        var logger = Logger(label: "fake-dashscope")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        var options = FakeDashScopeServer.Options()
        options.host = host
        options.port = port
        options.keys = Set(apiKeys)
        options.badKeyMode = badKeyMode
        options.resultDelayMs = resultDelayMs
        options.silenceTimeout = .milliseconds(Int(silenceTimeout * 1000))
        let host = self.host
        let app = FakeDashScopeServer.buildApplication(options: options, logger: logger) { channel in
            let bound = channel.localAddress?.port ?? 0
            let line = "fake-dashscope listening on ws://\(host):\(bound)\(FakeDashScopeServer.path)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await app.runService()
    }
}
