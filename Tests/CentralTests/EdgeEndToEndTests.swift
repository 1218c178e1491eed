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
/// encodes with libopus and streams to a live central (SQLite) relaying to the demo provider,
/// or to Deepgram or OpenAI Realtime (their fakes) translated by the LLM upstream (fake-llm).
/// The page's /ws hears results and quota, and the bill matches the audio.
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

    /// The central side of one run: its fixture, the provider (nil: the demo), the fakes to stop.
    struct Relay {
        var fixture: CentralFixture
        var provider: (any SpeechProvider)?
        var vault: ProviderKeyVault?
        var fakes: [FakeProviderProcess] = []
        /// How the provider's transcripts begin.
        var transcriptMarker: String
        /// A translation the LLM made, when the provider is recognition-only.
        var translationMarker: String?
    }

    static func relay(_ provider: String) async throws -> Relay {
        switch provider {
        case "deepgram":
            let rig = try await LLMTranslationTests.rig()
            return Relay(
                fixture: rig.deepgram.fixture, provider: rig.provider, vault: rig.deepgram.vault, fakes: [rig.deepgram.fake, rig.llm],
                transcriptMarker: "[fake] segment", translationMarker: "[fake-llm] [fake] segment")
        case "openai":
            let rig = try await OpenAIRealtimeProviderTests.rig()
            let llm = try FakeProviderProcess("fake-llm", keys: [LLMTranslationTests.llmKey])
            try await rig.vault.importKeys([LLMTranslationTests.llmKey], provider: TranslationSettings.keyProvider, source: .environment)
            var settings = TranslationSettings()
            settings.baseURL = llm.url
            let translator = ChatCompletionsTranslator(settings: settings, keys: rig.vault, logger: rig.logs.logger(label: "central"))
            return Relay(
                fixture: rig.fixture, provider: TranslatingSpeechProvider(rig.provider, translator: translator, targets: settings.targets),
                vault: rig.vault, fakes: [rig.fake, llm], transcriptMarker: "[fake] segment",
                translationMarker: "[fake-llm] [fake] segment")
        default:
            return Relay(fixture: try CentralFixture(realTime: true), transcriptMarker: "[demo]")
        }
    }

    @Test(arguments: ["demo", "deepgram", "openai"])
    func spokenAudioThroughTheRealEdgeIsTranscribedAndBilledExactly(provider: String) async throws {
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

        let relay = try await Self.relay(provider)
        defer { for fake in relay.fakes { fake.stop() } }
        let fixture = relay.fixture
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: relay.provider, keyVault: relay.vault) { central in
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
            #expect(seen.contains { $0.contains(#""type":"transcript""#) && $0.contains(relay.transcriptMarker) }, "\(seen.filter { !$0.contains("level") }.prefix(5))")
            if let marker = relay.translationMarker {
                #expect(seen.contains { $0.contains(#""type":"translation""#) && $0.contains(marker) }, "\(seen.filter { !$0.contains("level") }.suffix(5))")
            }
            #expect(seen.contains { $0.contains(#""type":"level""#) })
            page.cancel()
        }
    }
}
