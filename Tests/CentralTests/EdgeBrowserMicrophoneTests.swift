import AsyncHTTPClient
@testable import Central
@testable import EdgeAgent
import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import Protocol
import Synchronization
import Testing

/// Browser-microphone mode: the page's own 16 kHz PCM over /ws, encoded and streamed by the
/// edge like ALSA audio (same metering, same events).
@Suite(.bounded) struct EdgeBrowserMicrophoneTests {
    /// A live edge with no ALSA device at all (the page must use its own microphone), linked to
    /// the fixture's live central. `body` gets the edge, its port, the page's own Origin header
    /// and the controller.
    static func withMicrophonelessEdge(
        _ fixture: CentralFixture, key: String,
        _ body: @Sendable (any TestClientProtocol, Int, HTTPFields, TranslationController) async throws -> Void
    ) async throws {
        try await fixture.withLiveServer { central in
            let audio = ALSAAudioSource(configurationText: nil)
            let (configuration, controller) = try EdgeLocalAPITests.controller(
                centralPort: central.port, key: key, audio: audio, device: "hw:CARD=Missing,DEV=0")
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let port = try #require(edge.port)
                try await body(edge, port, [EdgeLocalAPITests.origin: "http://localhost:\(port)", .contentType: "application/json"], controller)
            }
        }
    }

    @Test func pagePCMIsEncodedStreamedAndBilled() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        var pcm = try SpeechTestAudio.pcm("Hello from the browser microphone.")
        pcm += [Int16](repeating: 0, count: 16 * 600)
        let frames = pcm.count / 320
        let bytes: [UInt8] = pcm.prefix(frames * 320).flatMap { sample -> [UInt8] in
            let value = UInt16(bitPattern: sample)
            return [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        try await Self.withMicrophonelessEdge(fixture, key: key) { edge, port, own, controller in
            let status = try await edge.execute(uri: "/api/status", method: .get, headers: own) { $0 }
            let statusText = String(buffer: status.body)
            #expect(statusText.contains(#""alsa_available":false"#) && statusText.contains(#""audio":"no_device""#), "\(statusText)")
            #expect(statusText.contains(#""browser_audio_available":true"#))
            let languages = try await edge.execute(uri: "/api/languages", method: .get, headers: own) { $0 }
            #expect(languages.status == .ok)
            let catalog = try JSONDecoder().decode(LanguageCatalog.self, from: Data(buffer: languages.body))
            #expect(catalog.provider.demo && catalog.supports(source: "en", target: "zh"))

            let events = LockedValue<[String]>([])
            var wsConfiguration = WebSocketClientConfiguration()
            wsConfiguration.additionalHeaders = own
            let page = Task {
                try? await WebSocketClient.connect(url: "ws://localhost:\(port)/ws", configuration: wsConfiguration, logger: Logger(label: "page")) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 16) {
                                if case .text(let text) = message { events.withLock { $0.append(text) } }
                            }
                        }
                        // Audio before a browser session is refused, politely.
                        try await outbound.write(.binary(ByteBuffer(bytes: [UInt8](repeating: 0, count: 640))))
                        let start = try await edge.execute(
                            uri: "/api/translation/start", method: .post, headers: own,
                            body: ByteBuffer(string: #"{"source_language":"en","target_language":"zh","device":"browser"}"#)) { $0 }
                        #expect(start.status == .accepted, "\(String(buffer: start.body))")
                        try await outbound.write(.binary(ByteBuffer(bytes: [UInt8](repeating: 0, count: 100))))
                        // 100 ms messages, a little faster than real time.
                        for offset in stride(from: 0, to: bytes.count, by: 3_200) {
                            try await outbound.write(.binary(ByteBuffer(bytes: bytes[offset..<min(offset + 3_200, bytes.count)])))
                            try await Task.sleep(for: .milliseconds(60))
                        }
                        try await Task.sleep(for: .milliseconds(500))
                        let stop = try await edge.execute(uri: "/api/translation/stop", method: .post, headers: own) { $0 }
                        #expect(stop.status == .ok)
                        try await eventually { try await fixture.store.liveStreamSessions().isEmpty }
                        try await Task.sleep(for: .milliseconds(300))
                        group.cancelAll()
                    }
                }
            }
            _ = await page.result
            let seen = events.value
            #expect(seen.contains { $0.contains("browser_audio_not_expected") }, "\(seen.prefix(5))")
            #expect(seen.contains { $0.contains("invalid_audio_frame") })
            #expect(seen.contains { $0.contains(#""type":"transcript""#) && $0.contains("[demo]") }, "\(seen.filter { !$0.contains("level") })")
            #expect(seen.contains { $0.contains(#""audio_source":"browser""#) })
            let license = try #require(try await fixture.store.license(id: id))
            let sent = await controller.currentStatus().audioSentMs ?? 0
            #expect(sent > 0 && sent <= Int64(frames * 20))
            #expect(license.usedMs == sent)
        }
    }

    @Test func closingThePageEndsItsBrowserMicrophoneSession() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await Self.withMicrophonelessEdge(fixture, key: key) { edge, port, own, controller in
            var wsConfiguration = WebSocketClientConfiguration()
            wsConfiguration.additionalHeaders = own
            // The page starts, streams a second of silence, then its tab goes away.
            _ = try? await WebSocketClient.connect(url: "ws://localhost:\(port)/ws", configuration: wsConfiguration, logger: Logger(label: "page")) { _, outbound, _ in
                let start = try await edge.execute(
                    uri: "/api/translation/start", method: .post, headers: own,
                    body: ByteBuffer(string: #"{"source_language":"en","target_language":"zh","device":"browser"}"#)) { $0 }
                #expect(start.status == .accepted)
                for _ in 0..<10 {
                    try await outbound.write(.binary(ByteBuffer(bytes: [UInt8](repeating: 0, count: 3_200))))
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(try await eventually { try await fixture.store.liveStreamSessions().count == 1 })
            }
            let ended = try await eventually { try await fixture.store.liveStreamSessions().isEmpty }
            #expect(ended, "the session outlived its page")
            #expect(try await fixture.store.activeLeases(licenseID: nil, now: Date()).isEmpty)
        }
    }
}
