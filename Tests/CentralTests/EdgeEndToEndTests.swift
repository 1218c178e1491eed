import AsyncHTTPClient
@testable import Central
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization
import Testing

/// Everything real: espeak-ng speaks, sox makes 16 kHz PCM, alsa-lib's `file` plugin (from an
/// asoundrc under XDG_CONFIG_HOME) is the microphone of a real `edge-agent` process, which
/// encodes with libopus and streams to a live central (demo provider, SQLite). The page's /ws
/// hears results and quota, and the bill matches the audio.
@Suite(.bounded) struct EdgeEndToEndTests {
    static func post(_ url: String, origin: String) async throws -> (UInt, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Origin", value: origin)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"source_language":"en","target_language":"zh"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 16)))
    }

    static func status(_ port: Int) async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/status"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 16)
        return (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    @Test func spokenAudioThroughTheRealEdgeIsTranscribedAndBilledExactly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("alsa"), withIntermediateDirectories: true)
        let wav = directory.appendingPathComponent("speech.wav").path
        let raw = directory.appendingPathComponent("speech.raw").path
        try SpeechTestAudio.run("espeak-ng", ["-w", wav, "Hello. This is a live translation test of the edge agent."])
        try SpeechTestAudio.run("sox", [wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", raw])
        let speechMs = Int64(try #require(try FileManager.default.attributesOfItem(atPath: raw)[.size] as? Int) / 32)
        try """
            pcm.testmic { type file slave.pcm "null" file "/dev/null" infile "\(raw)" format "raw" }
            """.write(toFile: directory.appendingPathComponent("alsa/asoundrc").path, atomically: true, encoding: .utf8)

        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let edgePort = CentralProcess.freePort()
            let edge = Process()
            edge.executableURL = CommandRunner.productsDirectory.appendingPathComponent("edge-agent")
            edge.environment = [
                "PATH": "/usr/bin:/bin", "HOME": directory.path, "XDG_CONFIG_HOME": directory.path,
                "LICENSE_KEY": key, "CENTRAL_URL": "http://localhost:\(central.port)", "EDGE_PORT": String(edgePort),
                "AUDIO_DEVICE": "testmic", "EDGE_DATA_DIR": directory.appendingPathComponent("edge").path, "LOG_LEVEL": "error",
            ]
            edge.standardOutput = FileHandle.nullDevice
            edge.standardError = FileHandle.nullDevice
            try edge.run()
            defer { edge.terminateAndWait() }
            for _ in 0..<100 where (try? await Self.status(edgePort)) == nil {
                try await Task.sleep(for: .milliseconds(100))
            }

            let origin = "http://localhost:\(edgePort)"
            let events = Mutex<[String]>([])
            var configuration = WebSocketClientConfiguration()
            configuration.additionalHeaders = [HTTPField.Name("Origin") ?? .via: origin]
            let page = Task {
                try? await WebSocketClient.connect(url: "ws://localhost:\(edgePort)/ws", configuration: configuration, logger: Logger(label: "page")) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        if case .text(let text) = message { events.withLock { $0.append(text) } }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let (status, body) = try await Self.post("http://localhost:\(edgePort)/api/translation/start", origin: origin)
            #expect(status == 202, "\(body)")

            // Let the whole utterance play (in real time), then stop, as the user would.
            let deadline = ContinuousClock.now + .seconds(Double(speechMs) / 1000 + 20)
            while ContinuousClock.now < deadline {
                let sent = (try await Self.status(edgePort))["audio_sent_ms"] as? Int ?? 0
                if sent >= Int(speechMs) { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            _ = try await Self.post("http://localhost:\(edgePort)/api/translation/stop", origin: origin)
            try await eventually { try await fixture.store.liveStreamSessions().isEmpty }
            try await Task.sleep(for: .milliseconds(300))
            let final = try await Self.status(edgePort)
            let sentMs = Int64(final["audio_sent_ms"] as? Int ?? -1)
            let license = try #require(try await fixture.store.license(id: id))
            // Billed equals what the edge sent, and that is the utterance (plus the frames
            // captured while the status poll and the stop travelled: on a loaded CI machine,
            // with every suite running at once, that can take several seconds).
            #expect(license.usedMs == sentMs, "billed \(license.usedMs), sent \(sentMs)")
            #expect(sentMs >= speechMs - 20 && sentMs <= speechMs + 5_000, "sent \(sentMs) for \(speechMs) ms of speech")
            #expect(license.sessionsUsed == 1)
            // The edge's own count, from its `stop`, is recorded beside the bill: they agree.
            let session = try #require(try await fixture.store.streamSessions(UsageQuery(licenseID: id), limit: 10).first)
            #expect(session.edgeSentMs == license.usedMs, "edge said \(String(describing: session.edgeSentMs)), billed \(license.usedMs)")
            let seen = events.withLock { $0 }
            #expect(seen.contains { $0.contains(#""type":"quota""#) })
            #expect(seen.contains { $0.contains(#""type":"transcript""#) && $0.contains("[demo]") }, "\(seen.filter { !$0.contains("level") }.prefix(5))")
            #expect(seen.contains { $0.contains(#""type":"level""#) })
            page.cancel()
        }
    }
}
