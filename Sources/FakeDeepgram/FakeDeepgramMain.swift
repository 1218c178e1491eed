import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `fake-deepgram`: a stand-in for Deepgram's live transcription endpoint, for tests and for
/// developing without provider keys. Prints its URL on stdout once it listens.
@main
struct FakeDeepgramMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-deepgram", abstract: "A fake Deepgram live transcription endpoint (/v1/listen) for tests.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 0
    @Option(name: .customLong("api-key"), help: "A key the fake accepts (repeatable).") var apiKeys: [String] = []
    @Option(name: .customLong("silence-timeout"), help: "Seconds without audio or KeepAlive before the close (Deepgram: 10).")
    var silenceTimeout = 10.0
    @Option(name: .customLong("log-level")) var logLevel = "warning"

    func validate() throws {
        guard !apiKeys.isEmpty else { throw ValidationError("give at least one --api-key") }
    }

    func run() async throws {
        var logger = Logger(label: "fake-deepgram")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        var options = FakeDeepgramServer.Options()
        options.host = host
        options.port = port
        options.keys = Set(apiKeys)
        options.silenceTimeout = .milliseconds(Int(silenceTimeout * 1000))
        let host = self.host
        let app = FakeDeepgramServer.buildApplication(options: options, logger: logger) { channel in
            let bound = channel.localAddress?.port ?? 0
            FileHandle.standardOutput.write(Data("fake-deepgram listening on ws://\(host):\(bound)\(FakeDeepgramServer.path)\n".utf8))
        }
        try await app.runService()
    }
}
