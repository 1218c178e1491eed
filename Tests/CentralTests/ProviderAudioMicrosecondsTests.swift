@testable import Central
import COpus
import Foundation
import Protocol
import Testing

/// `provider_audio_ms` is the provider's own account of audio, kept beside the bill: it must add
/// durations in microseconds, or 2.5 ms Opus frames count as 2 ms each (−20 %) and 7.5 ms as 7.
struct ProviderAudioMicrosecondsTests {
    static func frames(_ count: Int, microseconds: UInt32, from start: Int = 0) -> [AudioFrame] {
        (start..<(start + count)).map {
            AudioFrame(sequence: UInt32($0), durationMicroseconds: microseconds, captureTimeMicroseconds: 0, packet: [0x08, 0x00])
        }
    }

    @Test(arguments: [(2_500, 400, 1_000), (7_500, 400, 3_000), (20_000, 50, 1_000), (60_000, 30, 1_800)] as [(UInt32, Int, Int64)])
    func theDashScopeRelayAddsMicroseconds(microseconds: UInt32, count: Int, expectedMs: Int64) {
        let relay = ProviderRelayState(sourceLanguage: "zh", targetLanguage: "en")
        relay.beginTask()
        relay.markStarted()
        for frame in Self.frames(count, microseconds: microseconds) {
            relay.accept(frame)
            _ = relay.takeUnsent()
        }
        #expect(relay.read(\.providerAudioMs) == expectedMs)
        #expect(relay.read(\.taskSentMs) == Int(expectedMs))
        #expect(relay.read(\.sessionAudioMs) == Int(expectedMs))
    }

    @Test func sessionTimesOfShortFramesDoNotDrift() {
        // 400 frames of 2.5 ms: the 401st begins at exactly 1 000 ms of session audio.
        let relay = ProviderRelayState(sourceLanguage: "zh", targetLanguage: nil)
        for frame in Self.frames(401, microseconds: 2_500) { relay.accept(frame) }
        #expect(relay.read { $0.unconfirmed.last?.sessionStartMs } == 1_000)
        #expect(relay.read { $0.unconfirmed.reduce(0) { $0 + $1.durationMs } } == 1_002)
    }

    @Test func aFailoverReplayCountsAgainExactly() {
        let relay = ProviderRelayState(sourceLanguage: "zh", targetLanguage: nil)
        relay.beginTask()
        relay.markStarted()
        for frame in Self.frames(200, microseconds: 2_500) { relay.accept(frame) }
        _ = relay.takeUnsent()
        relay.abortTask()
        relay.beginTask()
        relay.markStarted()
        _ = relay.takeUnsent()
        #expect(relay.read(\.providerAudioMs) == 1_000)  // 500 ms sent twice
    }

    /// Real libopus packets of `samples` at 16 kHz each (40 samples: 2.5 ms, CELT only).
    static func opusPackets(samples: Int, count: Int) throws -> [[UInt8]] {
        var error: Int32 = 0
        let encoder = try #require(opus_encoder_create(16_000, 1, OPUS_APPLICATION_AUDIO, &error))
        defer { opus_encoder_destroy(encoder) }
        var output = [UInt8](repeating: 0, count: 1500)
        return try (0..<count).map { index in
            let pcm: [Int16] = (0..<samples).map { Int16(6_000 * sin(Double(index * samples + $0) / 8)) }
            let length = opus_encode(encoder, pcm, Int32(samples), &output, Int32(output.count))
            try #require(length > 0, "opus_encode: \(length)")
            return Array(output.prefix(Int(length)))
        }
    }

    @Test func theDemoProviderAddsMicroseconds() async throws {
        let configuration = ProviderSessionConfiguration(
            sessionID: "s", sourceLanguage: "zh", targetLanguage: "en", codec: CodecParameters())
        let session = try await DemoSpeechProvider().openSession(configuration)
        for (index, bytes) in try Self.opusPackets(samples: 40, count: 200).enumerated() {
            let frame = try AudioFrame(sequence: UInt32(index), captureTimeMicroseconds: 0, packet: bytes)
            #expect(frame.durationMicroseconds == 2_500)
            #expect(session.send(frame))
        }
        #expect(await session.finish().audioMs == 500)
    }
}
