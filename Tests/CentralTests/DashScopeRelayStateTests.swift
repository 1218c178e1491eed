@testable import Central
import Protocol
import Testing

/// The bookkeeping behind failover: what is replayed, and how provider times and sentence ids
/// become the session's.
@Suite(.bounded) struct DashScopeRelayStateTests {
    static func frame(_ sequence: UInt32) -> AudioFrame {
        AudioFrame(sequence: sequence, durationMicroseconds: 20_000, captureTimeMicroseconds: 0, packet: [0x08, 0x00])
    }

    static func sentence(_ id: Int, _ begin: Int, _ end: Int, final: Bool) -> [ProviderTaskResult] {
        DashScopeTaskEvents.results(DashScopeWire.EventPayload(
            output: .init(transcription: .init(sentenceID: id, beginTime: begin, endTime: end, text: "s\(id)", sentenceEnd: final)),
            usage: nil))
    }

    @Test func aFailedTaskReplaysOnlyUnconfirmedAudioAndKeepsSentenceIDs() {
        let relay = ProviderRelayState(sourceLanguage: "en", targetLanguage: nil)
        relay.beginTask()
        relay.markStarted()
        for index in 0..<100 { relay.accept(Self.frame(UInt32(index))) }  // 2 s
        #expect(relay.takeUnsent().count == 100)
        // Sentence 0 is final up to 1.2 s; sentence 1 is interim when the task fails.
        _ = relay.results(from: Self.sentence(0, 100, 1_200, final: true))
        _ = relay.results(from: Self.sentence(1, 1_300, 1_800, final: false))
        relay.abortTask()
        #expect(relay.read(\.unconfirmed).count == 40)

        relay.beginTask()
        relay.markStarted()
        #expect(relay.takeUnsent().count == 40)
        #expect(relay.read(\.taskBaseSessionMs) == 1_200)
        // The new task's first sentence is the replayed one: it takes the unfinished id, and
        // its times are offset by where the replay began.
        let replayed = relay.results(from: Self.sentence(0, 100, 600, final: true))
        guard case .transcript(let result) = replayed.first else {
            Issue.record("no transcript")
            return
        }
        #expect(result.sentenceID == 1)
        #expect(result.startMs == 1_300 && result.endMs == 1_800)
        let next = relay.results(from: Self.sentence(1, 700, 780, final: true))
        if case .transcript(let second) = next.first { #expect(second.sentenceID == 2) }
    }

    @Test func replayMemoryIsBounded() {
        let relay = ProviderRelayState(sourceLanguage: "zh", targetLanguage: nil)
        relay.beginTask()
        relay.markStarted()
        for index in 0..<4_000 {
            relay.accept(Self.frame(UInt32(index)))
            _ = relay.takeUnsent()
        }
        #expect(relay.read(\.unconfirmed).count <= ProviderRelayState.replayLimitFrames + ProviderRelayState.trimSlackFrames)
        #expect(relay.read(\.providerAudioMs) == 80_000)
    }

    /// A relay in its second task, whose times are offset by the first task's second of audio.
    static func relayInSecondTask() -> ProviderRelayState {
        let relay = ProviderRelayState(sourceLanguage: "zh", targetLanguage: "en")
        relay.beginTask()
        relay.markStarted()
        for index in 0..<50 { relay.accept(Self.frame(UInt32(index))) }
        _ = relay.takeUnsent()
        relay.completeTask()
        relay.beginTask()
        relay.markStarted()
        for index in 50..<100 { relay.accept(Self.frame(UInt32(index))) }
        _ = relay.takeUnsent()
        return relay
    }

    /// Found by the dashscope-event fuzz target: `begin_time` near Int.max overflowed the
    /// session offset and trapped, which ends central with every session on it. Times outside a
    /// task are clamped instead, and never reach the edge negative.
    @Test(arguments: [
        (Int.max, Int.max), (Int.max - 500, 10), (Int.min, Int.min), (-5_000, -1), (0, Int.max), (Int.min, Int.max),
    ])
    func providerTimesOutsideTheTaskCannotTrapOrGoNegative(begin: Int, end: Int) {
        let relay = Self.relayInSecondTask()
        #expect(relay.read(\.taskBaseSessionMs) == 1_000)
        for final in [false, true] {
            let events = relay.results(from: Self.sentence(0, begin, end, final: final))
            guard case .transcript(let result) = events.first else {
                Issue.record("no transcript for \(begin)…\(end)")
                continue
            }
            #expect(result.startMs >= 1_000 && result.startMs <= result.endMs)
            #expect(result.endMs <= 1_000 + ProviderRelayState.maxTaskOffsetMs)
        }
    }

    /// Usage seconds come from the provider too: Int.max in two tasks overflowed the sum.
    @Test func providerUsageCannotOverflowReportedSeconds() {
        let relay = Self.relayInSecondTask()
        for _ in 0..<3 {
            relay.recordTaskUsage(seconds: Int.max)
            for event in DashScopeTaskEvents.events(.init(output: nil, usage: .init(duration: Int.max))) { _ = relay.apply(event) }
            relay.completeTask()
            relay.beginTask()
        }
        relay.recordTaskUsage(seconds: -7)
        relay.abortTask()
        #expect(relay.read(\.reportedSeconds) == 3 * ProviderRelayState.maxTaskReportedSeconds)
    }
}
