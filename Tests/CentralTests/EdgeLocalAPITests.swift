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

/// The edge's local API on a live server, wired to real ALSA capture (file plugin), libopus,
/// and a live central.
@Suite struct EdgeLocalAPITests {
    static let origin = HTTPField.Name("Origin") ?? .via

    /// A raw 16 kHz file of tone bursts, played as the microphone by alsa-lib's file plugin.
    static func microphone(seconds: Double) throws -> ALSAAudioSource {
        let samples = (0..<Int(seconds * 16_000)).map { index -> Int16 in
            (index / 16_000) % 2 == 0 ? Int16(9_000 * sin(2 * .pi * 300 * Double(index) / 16_000)) : 0
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mic-\(UUID().uuidString).raw")
        try samples.withUnsafeBytes { Data($0) }.write(to: file)
        return ALSAAudioSource(configurationText: """
            pcm.testmic { type file slave.pcm { type null } file "/dev/null" infile "\(file.path)" format "raw" }
            """)
    }

    static func controller(
        centralPort: Int, key: String, audio: any AudioSource, device: String = "testmic"
    ) throws -> (EdgeConfiguration, TranslationController) {
        var configuration = EdgeConfiguration(licenseKey: key, centralURL: try #require(URL(string: "http://localhost:\(centralPort)")))
        configuration.audioDevice = device
        var logger = Logger(label: "edge-test")
        logger.logLevel = .critical
        let central = CentralClient(baseURL: configuration.centralURL, licenseKey: key, client: .shared)
        let quietLogger = logger
        let controller = TranslationController(
            configuration: configuration, audio: audio, central: central, deviceID: "edge-test-device", logger: logger,
            makeLink: { CentralLink(central: central, tls: nil, deviceID: "edge-test-device", logger: quietLogger) })
        return (configuration, controller)
    }

    @Test func aForeignPageCanNeitherStartAStreamNorListen() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (configuration, controller) = try Self.controller(centralPort: central.port, key: key, audio: try Self.microphone(seconds: 1))
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let body = ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)
                let foreign = try await edge.execute(uri: "/api/translation/start", method: .post, headers: [Self.origin: "https://evil.example"], body: body) { $0 }
                #expect(foreign.status == .forbidden)
                #expect(String(buffer: foreign.body).contains("origin_not_allowed"))
                let otherPort = try await edge.execute(uri: "/api/status", method: .get, headers: [Self.origin: "http://localhost:1"]) { $0 }
                #expect(otherPort.status == .forbidden)
                // Nothing was started, so no minutes were spent.
                #expect(try await fixture.store.liveStreamSessions().isEmpty)
                #expect(try await fixture.store.license(id: id)?.usedMs == 0)
                // Reading transcripts over /ws from a foreign page is refused too.
                var wsConfiguration = WebSocketClientConfiguration()
                wsConfiguration.additionalHeaders = [Self.origin: "https://evil.example"]
                let received = Mutex<Int>(0)
                _ = try? await WebSocketClient.connect(url: "ws://localhost:\(edge.port ?? 0)/ws", configuration: wsConfiguration, logger: Logger(label: "ws")) { inbound, _, _ in
                    for try await _ in inbound.messages(maxSize: 1 << 16) { received.withLock { $0 += 1 } }
                }
                #expect(received.withLock { $0 } == 0)
            }
        }
    }

    @Test func aLocalPageStartsStreamsAndHearsEverything() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (configuration, controller) = try Self.controller(centralPort: central.port, key: key, audio: try Self.microphone(seconds: 3))
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let port = try #require(edge.port)
                let own: HTTPFields = [Self.origin: "http://localhost:\(port)"]
                // The page listens on /ws first.
                let events = Mutex<[String]>([])
                var wsConfiguration = WebSocketClientConfiguration()
                wsConfiguration.additionalHeaders = own
                let listener = Task {
                    do { try await WebSocketClient.connect(url: "ws://localhost:\(port)/ws", configuration: wsConfiguration, logger: Logger(label: "ws")) { inbound, _, _ in
                        for try await message in inbound.messages(maxSize: 1 << 16) {
                            if case .text(let text) = message { events.withLock { $0.append(text) } }
                        }
                    } } catch { events.withLock { $0.append("connect failed: \(error)") } }
                }
                let start = try await edge.execute(
                    uri: "/api/translation/start", method: .post, headers: own,
                    body: ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)) { $0 }
                #expect(start.status == .accepted, "\(String(buffer: start.body))")
                let again = try await edge.execute(
                    uri: "/api/translation/start", method: .post, headers: own,
                    body: ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)) { $0 }
                #expect(again.status == .conflict)
                for _ in 0..<300 {
                    let seen = events.withLock { $0 }
                    if seen.contains(where: { $0.contains(#""type":"quota""#) }), seen.contains(where: { $0.contains(#""type":"level""#) }) { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let status = try await edge.execute(uri: "/api/status", method: .get, headers: own) { $0 }
                #expect(String(buffer: status.body).contains(#""link":"streaming""#), "\(String(buffer: status.body))")
                let quota = try await edge.execute(uri: "/api/license/quota", method: .get) { $0 }
                #expect(quota.status == .ok && String(buffer: quota.body).contains("seconds_limit"))
                let devices = try await edge.execute(uri: "/api/devices", method: .get) { $0 }
                #expect(devices.status == .ok && String(buffer: devices.body).contains("devices"))
                let stop = try await edge.execute(uri: "/api/translation/stop", method: .post, headers: own) { $0 }
                #expect(stop.status == .ok)
                for _ in 0..<300 where try await fixture.store.liveStreamSessions().count > 0 {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let seen = events.withLock { $0 }
                #expect(seen.contains { $0.contains(#""type":"level""#) }, "\(seen.prefix(3))")
                #expect(seen.contains { $0.contains(#""type":"state""#) })
                let license = try #require(try await fixture.store.license(id: id))
                #expect(license.usedMs > 0 && license.sessionsUsed == 1)
                let ledger = try await fixture.store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
                #expect(ledger == license.usedMs)
                listener.cancel()
            }
        }
    }

    @Test func centralsRefusalIsPassedOnAndDoesNotWedgeTheEdge() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1; $0.devices = 5 }
        try await fixture.withLiveServer { central in
            // Another device holds the only stream.
            let other = try await central.admit(key: key, device: "another-edge")
            let otherSession = try #require(try other.json()["session_id"] as? String)
            let (configuration, controller) = try Self.controller(centralPort: central.port, key: key, audio: try Self.microphone(seconds: 1))
            let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: Logger(label: "edge"))
            try await app.test(.live) { edge in
                let body = ByteBuffer(string: #"{"source_language":"zh","target_language":"en"}"#)
                let refused = try await edge.execute(uri: "/api/translation/start", method: .post, body: body) { $0 }
                #expect(refused.status == .tooManyRequests)
                #expect(String(buffer: refused.body).contains("concurrency_limit"))
                #expect(try await central.edge(.delete, "/v1/sessions/\(otherSession)", key: key).status == .noContent)
                let accepted = try await edge.execute(uri: "/api/translation/start", method: .post, body: body) { $0 }
                #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
                _ = try await edge.execute(uri: "/api/translation/stop", method: .post) { $0 }
            }
        }
    }
}
