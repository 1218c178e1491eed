@testable import Central
@testable import EdgeAgent
import AsyncHTTPClient
import Foundation
import Logging
import Protocol
import Synchronization
import Testing

/// The edge's link against a live central: streaming, acks, and a resume after a dropped
/// connection that loses no audio and costs no second session.
@Suite(.bounded) struct EdgeLinkTests {
    final class Events: Sendable {
        let all = Mutex<[LinkEvent]>([])
        func append(_ event: LinkEvent) { all.withLock { $0.append(event) } }
        var stopped: StoppedMessage? {
            all.withLock { $0.compactMap { if case .stopped(let s) = $0 { s } else { nil } }.last }
        }
        var startedCount: Int { all.withLock { $0.filter { if case .started = $0 { true } else { false } }.count } }
    }

    static func link(port: Int, key: String) throws -> (CentralLink, Events, Task<Void, Never>) {
        let central = CentralClient(
            baseURL: try #require(URL(string: "http://localhost:\(port)")), licenseKey: key,
            client: .shared)
        var logger = Logger(label: "link-test")
        logger.logLevel = .critical
        let link = CentralLink(central: central, tls: nil, deviceID: "edge-device-1", logger: logger)
        let events = Events()
        let pump = Task { for await event in link.events { events.append(event) } }
        return (link, events, pump)
    }

    static func packets(_ count: Int) throws -> [[UInt8]] {
        let encoder = try OpusFrameEncoder()
        return try (0..<count).map { index in
            let pcm = (0..<320).map { Int16(8_000 * sin(2 * .pi * 220 * Double(index * 320 + $0) / 16_000)) }
            return try encoder.encode(pcm[...])
        }
    }

    @Test func streamsEncodedAudioAndStopsCleanly() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (link, events, pump) = try Self.link(port: central.port, key: key)
            try await link.open(sourceLanguage: "zh", targetLanguage: "en", codec: CodecParameters())
            await eventually { events.startedCount == 1 }
            for (index, packet) in try Self.packets(100).enumerated() {
                await link.send(packet: packet, captureTimeMicroseconds: UInt64(index) * 20_000)
            }
            await link.stop()
            await eventually { events.stopped != nil }
            #expect(events.stopped?.reason == .clientStop)
            #expect(events.stopped?.billedMs == 2_000)
            #expect(try await fixture.store.license(id: id)?.usedMs == 2_000)
            pump.cancel()
        }
    }

    /// The capture may hand over a few more packets between the user's Stop and central's
    /// `stopped`: they are not sent, not counted, so the edge's count stays the one its `stop`
    /// told central, which is what was billed.
    @Test func packetsAfterStopAreNeitherSentNorCounted() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (link, events, pump) = try Self.link(port: central.port, key: key)
            try await link.open(sourceLanguage: "zh", targetLanguage: "en", codec: CodecParameters())
            await eventually { events.startedCount == 1 }
            let packets = try Self.packets(60)
            for (index, packet) in packets.prefix(50).enumerated() {
                await link.send(packet: packet, captureTimeMicroseconds: UInt64(index) * 20_000)
            }
            await link.stop()
            for (index, packet) in packets.suffix(10).enumerated() {
                await link.send(packet: packet, captureTimeMicroseconds: UInt64(50 + index) * 20_000)
            }
            #expect(await link.sentMilliseconds == 1_000)
            await eventually { events.stopped != nil }
            #expect(events.stopped?.billedMs == 1_000)
            #expect(try await fixture.store.license(id: id)?.usedMs == 1_000)
            #expect(await link.sentMilliseconds == 1_000)
            pump.cancel()
        }
    }

    @Test func aDroppedConnectionResumesWithoutLossOrASecondSession() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (link, events, pump) = try Self.link(port: central.port, key: key)
            try await link.open(sourceLanguage: "zh", targetLanguage: "en", codec: CodecParameters())
            await eventually { events.startedCount == 1 }
            let packets = try Self.packets(150)
            for index in 0..<50 {
                await link.send(packet: packets[index], captureTimeMicroseconds: UInt64(index) * 20_000)
            }
            try await Task.sleep(for: .milliseconds(200))
            await link.dropConnection()
            // Audio keeps coming during the outage; it waits in the replay buffer.
            for index in 50..<150 {
                await link.send(packet: packets[index], captureTimeMicroseconds: UInt64(index) * 20_000)
            }
            await eventually { events.startedCount == 2 }
            #expect(events.startedCount == 2)
            await link.stop()
            await eventually { events.stopped != nil }
            #expect(events.stopped?.billedMs == 3_000)
            let license = try #require(try await fixture.store.license(id: id))
            #expect(license.usedMs == 3_000 && license.sessionsUsed == 1)
            #expect(await link.droppedFrames == 0)
            #expect(await link.droppedUnsentFrames == 0)
            pump.cancel()
        }
    }
}
