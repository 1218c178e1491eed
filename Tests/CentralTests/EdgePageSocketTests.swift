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

/// The page takes its state from `/ws` alone: the greeting and what follows carry the status
/// (with the device probe and central's reachability) and the quota, which the edge reads for
/// its pages while no session runs.
@Suite(.bounded) struct EdgePageSocketTests {
    /// The messages a page hears on `/ws` of the edge on `port` until `enough` says so (or 10 s pass).
    static func listen(port: Int, until enough: @escaping @Sendable ([String]) -> Bool) async -> [String] {
        let heard = Mutex<[String]>([])
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = [EdgeLocalAPITests.origin: "http://localhost:\(port)"]
        let page = Task {
            try? await WebSocketClient.connect(url: "ws://localhost:\(port)/ws", configuration: configuration, logger: Logger(label: "page")) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    guard case .text(let text) = message else { continue }
                    if heard.withLock({ $0.append(text); return enough($0) }) { return }
                }
            }
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(10))
            page.cancel()
        }
        _ = await page.result
        timeout.cancel()
        return heard.withLock { $0 }
    }

    @Test func aPageHearsTheStatusAndTheQuotaWithoutAskingAnythingElse() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense()
        try await EdgeLocalAPITests.withEdge(fixture, key: key) { port, _, _ in
            let heard = await Self.listen(port: port) { heard in
                heard.contains { $0.contains(#""type":"quota""#) } && heard.contains { $0.contains(#""central_reachable":true"#) }
            }
            let first = try #require(heard.first)
            #expect(first.contains(#""type":"state""#) && first.contains(#""link":"idle""#), "\(first)")
            #expect(first.contains(#""alsa_available":true"#), "the greeting carries the device probe: \(first)")
            let quota = try #require(heard.first { $0.contains(#""type":"quota""#) }, "\(heard)")
            #expect(quota.contains(#""seconds_limit""#) && quota.contains(#""warning":"none""#), "\(quota)")
            #expect(heard.contains { $0.contains(#""central_reachable":true"#) }, "\(heard)")
            // A second page gets the quota in its greeting.
            let second = await Self.listen(port: port) { $0.count >= 2 }
            #expect(second.count >= 2 && second[0].contains(#""type":"state""#) && second[1].contains(#""type":"quota""#), "\(second)")
        }
    }

    @Test func anUnreachableCentralOrAnUnknownKeyIsSaidOnTheSocket() async throws {
        let fixture = try CentralFixture(realTime: true)
        try await EdgeLocalAPITests.withEdge(fixture, key: LicenseKey.generate(kind: .trial).value) { port, controller, _ in
            let heard = await Self.listen(port: port) { $0.contains { $0.contains("quota_error") } }
            let refused = try #require(heard.last, "\(heard)")
            #expect(refused.contains(#""quota_error":{"code":"license_not_found""#), "\(refused)")
            #expect(refused.contains(#""central_reachable":true"#), "central answered: \(refused)")
            #expect(await controller.currentStatus().quotaError?.code == .licenseNotFound)
        }
        // Nothing listens on port 9; AsyncHTTPClient retries a refused connection until its
        // connect timeout, 1 s here.
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(1))))
        var configuration = EdgeConfiguration(licenseKey: LicenseKey.generate(kind: .trial).value, centralURL: try #require(URL(string: "http://localhost:9")))
        configuration.audioDevice = "testmic"
        let central = CentralClient(baseURL: configuration.centralURL, licenseKey: configuration.licenseKey, client: client)
        let logger = Logger(label: "edge")
        let controller = TranslationController(
            configuration: configuration, audio: try EdgeLocalAPITests.microphone(seconds: 1), central: central, deviceID: "edge-test-device",
            logger: logger, makeLink: { CentralLink(central: central, tls: nil, deviceID: "edge-test-device", logger: logger) })
        let app = LocalAPI.buildApplication(configuration: configuration, controller: controller, logger: logger)
        do {
            try await app.test(.live) { edge in
                let heard = await Self.listen(port: try #require(edge.port)) { $0.contains { $0.contains("quota_error") } }
                let unreachable = try #require(heard.last, "\(heard)")
                #expect(unreachable.contains(#""quota_error":{"code":"central_unreachable""#), "\(unreachable)")
                #expect(unreachable.contains(#""central_reachable":false"#), "\(unreachable)")
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
