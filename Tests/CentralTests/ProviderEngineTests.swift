@testable import Central
import Foundation
import Logging
import Protocol
import Testing

/// The provider engine with a scripted wire instead of DashScope: key failover, replay of the
/// audio no final covers, retries, rotation, idle finishes, the bounded inbox, the finish
/// deadline and usage. What holds here holds for every adapter.
@Suite(.bounded) struct ProviderEngineTests {
    static let configuration = ProviderSessionConfiguration(
        sessionID: "sess-engine", sourceLanguage: "en", targetLanguage: "zh", codec: CodecParameters())

    static func timing(
        rotateAfterMs: Int = 600_000, idle: Duration = .seconds(10), retries: Int = 2, inbox: Int = 750,
        start: Duration = .seconds(2), finish: Duration = .seconds(2)
    ) -> ProviderTiming {
        ProviderTiming(
            startTimeout: start, finishTimeout: finish, idleFinishAfter: idle, rotateAfterMs: rotateAfterMs,
            retries: retries, inboxCapacity: inbox, tickInterval: .milliseconds(20))
    }

    /// Frames whose packets say which frame they are.
    static func frames(_ range: Range<Int>) -> [AudioFrame] {
        range.map {
            AudioFrame(
                sequence: UInt32($0), durationMicroseconds: 20_000, captureTimeMicroseconds: UInt64($0) * 20_000,
                packet: [0x08, UInt8($0 & 0xFF), UInt8($0 >> 8)])
        }
    }

    static func open(_ wire: ScriptedWire, keys: ScriptedKeys) async throws -> any SpeechProviderSession {
        try await EngineSpeechProvider(wire: wire, keys: keys, logger: Logger(label: "engine-test")).openSession(configuration)
    }

    /// Sends frames as a session does, waiting (bounded) while the inbox is full.
    static func feed(_ session: any SpeechProviderSession, _ frames: [AudioFrame]) async {
        for frame in frames where !session.send(frame) {
            _ = await session.send(frame, waitingUpTo: .seconds(5))
        }
    }

    /// Sends frames a little apart, as a live edge does, each taken at once (the inbox has room).
    static func pace(_ session: any SpeechProviderSession, _ frames: [AudioFrame]) async throws {
        for frame in frames {
            #expect(session.send(frame))
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Until the first task was asked to finish. Polled, not slept: under load (tests run in
    /// parallel) the engine's ticks come late.
    static func waitForTheIdleFinish(_ wire: ScriptedWire) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while wire.tasks.first?.finishAsked != true, clock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }

    /// Every event until the stream ends, collected beside the session.
    static func collect(_ session: any SpeechProviderSession) -> Task<[ProviderEvent], Never> {
        let events = session.events
        return Task {
            var all: [ProviderEvent] = []
            for await event in events { all.append(event) }
            return all
        }
    }

    static func finals(_ events: [ProviderEvent]) -> [ResultMessage] {
        events.compactMap { if case .transcript(let result) = $0, result.final { result } else { nil } }
    }

    @Test(arguments: [ProviderFailure.authFailed("key revoked"), .rateLimited("throttled")])
    func aKeyFailureFailsOverAndReplaysOnlyTheUnconfirmedAudio(failure: ProviderFailure) async throws {
        // The first task fails after 25 packets: finals cover 20 of them, so 5 are replayed.
        let wire = ScriptedWire(timing: Self.timing(), script: [.failAfter(packets: 25, failure)])
        let keys = ScriptedKeys(["key-a", "key-b"])
        let session = try await Self.open(wire, keys: keys)
        let events = Self.collect(session)
        let frames = Self.frames(0..<60)
        try await Self.pace(session, frames)
        let usage = await session.finish()
        let all = await events.value

        #expect(!all.contains { if case .failed = $0 { true } else { false } }, "\(all)")
        let tasks = wire.tasks
        #expect(tasks.count == 2)
        #expect(tasks.map(\.key) == ["key-a", "key-b"])
        let firstSent = tasks[0].packets.count
        #expect(firstSent >= 25)
        // The second task starts with the first frame no final covered, and gets every later one once.
        #expect(tasks[1].packets == frames[20...].map(\.packet))
        // Sentence ids stay unique and the session's times contiguous across the failover.
        let finals = Self.finals(all)
        #expect(Set(finals.map(\.sentenceID)).count == finals.count)
        #expect(finals.first?.startMs == 0 && finals.last?.endMs == 60 * 20)
        for (earlier, later) in zip(finals, finals.dropFirst()) { #expect(earlier.endMs == later.startMs) }
        // The provider's account counts the replay; the reported seconds are the last task's.
        #expect(usage.audioMs == Int64(firstSent + 40) * 20)
        #expect(usage.reportedSeconds == 1)
        let reports = await keys.reports
        #expect(reports.first?.keyID == "key-a" && reports.first?.outcome == failure.keyOutcome)
        #expect(reports.last?.keyID == "key-b" && reports.last?.outcome == .used(audioMs: 40 * 20))
    }

    @Test func aKeyRefusedAtConnectIsSkippedBeforeAnyAudioIsLost() async throws {
        let wire = ScriptedWire(timing: Self.timing(), script: [.refuse(.authFailed("HTTP 401"))])
        let keys = ScriptedKeys(["key-a", "key-b"])
        let session = try await Self.open(wire, keys: keys)
        let events = Self.collect(session)
        let frames = Self.frames(0..<30)
        await Self.feed(session, frames)
        _ = await session.finish()
        #expect(Self.finals(await events.value).last?.endMs == 600)
        #expect(wire.tasks.map(\.key) == ["key-b"])
        #expect(wire.tasks.first?.packets == frames.map(\.packet))
    }

    @Test func transientFailuresAreRetriedThenEndTheSessionWithOurSentence() async throws {
        let failure = ProviderFailure.transient(.providerUnavailable, "InternalError: the provider's own words")
        let wire = ScriptedWire(timing: Self.timing(retries: 2), script: Array(repeating: .failAfter(packets: 3, failure), count: 10))
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a"]))
        let events = Self.collect(session)
        // Fewer frames than a scripted sentence: no final ever covers them, each retry replays them all.
        await Self.feed(session, Self.frames(0..<8))
        _ = await session.finish()
        let all = await events.value
        #expect(wire.tasks.allSatisfy { $0.packets.first == [0x08, 0, 0] })
        // The first try and two retries, then the session ends with our code and our sentence.
        #expect(wire.tasks.count == 3)
        let failed = all.compactMap { if case .failed(let code, let message) = $0 { (code, message) } else { nil } }
        #expect(failed.count == 1)
        #expect(failed.first?.0 == .providerUnavailable)
        #expect(failed.first?.1 == ProviderFailureSentence.sentence(for: .providerUnavailable))
        #expect(!all.contains { "\($0)".contains("own words") })
    }

    @Test func aFatalFailureEndsTheSessionWithoutARetry() async throws {
        let wire = ScriptedWire(timing: Self.timing(), script: [.failAfter(packets: 1, .fatal(.providerFailed, "bad audio"))])
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a", "key-b"]))
        let events = Self.collect(session)
        await Self.feed(session, Self.frames(0..<5))
        _ = await session.finish()
        #expect(wire.tasks.count == 1)
        #expect((await events.value).contains(.failed(.providerFailed, ProviderFailureSentence.sentence(for: .providerFailed))))
    }

    @Test func whenEveryKeyFailsTheSessionEndsWithTheKeysCode() async throws {
        let wire = ScriptedWire(timing: Self.timing(), script: [.refuse(.rateLimited("429")), .refuse(.rateLimited("429"))])
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a", "key-b"]))
        let events = Self.collect(session)
        await Self.feed(session, Self.frames(0..<5))
        _ = await session.finish()
        #expect((await events.value).contains(.failed(.providerRateLimited, ProviderFailureSentence.sentence(for: .providerRateLimited))))
    }

    @Test func noUsableKeyRefusesTheOpen() async throws {
        let wire = ScriptedWire(timing: Self.timing())
        await #expect(throws: ProviderError(.providerUnavailable, "No usable Scripted key: add one, or wait for a throttled key to cool down.")) {
            _ = try await Self.open(wire, keys: ScriptedKeys([]))
        }
        #expect(wire.tasks.isEmpty)
    }

    @Test func longSessionsRotateToFreshTasksAndEveryFrameIsSentOnce() async throws {
        // 400 ms per task; the scripted finals end every 200 ms, so each rotation is at a sentence end.
        let wire = ScriptedWire(timing: Self.timing(rotateAfterMs: 400))
        let keys = ScriptedKeys(["key-a", "key-b"])
        let session = try await Self.open(wire, keys: keys)
        let events = Self.collect(session)
        let frames = Self.frames(0..<100)
        try await Self.pace(session, frames)
        _ = await session.finish()
        let tasks = wire.tasks
        #expect(tasks.count >= 3, "\(tasks.map(\.packets.count))")
        #expect(tasks.allSatisfy { $0.finishAsked })
        #expect(tasks.flatMap(\.packets) == frames.map(\.packet))
        let finals = Self.finals(await events.value)
        #expect(Set(finals.map(\.sentenceID)).count == finals.count)
        #expect(finals.last?.endMs == 2_000)
    }

    @Test func anIdlePauseFinishesTheTaskAndTheNextAudioOpensOne() async throws {
        let wire = ScriptedWire(timing: Self.timing(idle: .milliseconds(200)))
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a"]))
        let events = Self.collect(session)
        await Self.feed(session, Self.frames(0..<20))
        try await Self.waitForTheIdleFinish(wire)
        #expect(wire.tasks.count == 1 && wire.tasks.first?.finishAsked == true)
        await Self.feed(session, Self.frames(20..<40))
        _ = await session.finish()
        #expect(wire.tasks.map(\.packets.count) == [20, 20])
        #expect(Self.finals(await events.value).last?.endMs == 800)
    }

    /// Audio that reaches the engine while an idle task is finishing, followed by the end of the
    /// session, still goes to a provider: it is not left behind with the finished task.
    @Test func audioDuringAnIdleFinishIsStillSent() async throws {
        let wire = ScriptedWire(timing: Self.timing(idle: .milliseconds(200)), script: [.slowFinish(.milliseconds(600))])
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a"]))
        let events = Self.collect(session)
        await Self.feed(session, Self.frames(0..<20))
        try await Self.waitForTheIdleFinish(wire)
        // The first task is still finishing: its writer takes these frames, and the end.
        await Self.feed(session, Self.frames(20..<30))
        _ = await session.finish()
        #expect(wire.tasks.map(\.packets.count) == [20, 10])
        #expect(Self.finals(await events.value).last?.endMs == 600)
    }

    @Test func theInboxIsBoundedWhenTheProviderFallsBehind() async throws {
        let wire = ScriptedWire(timing: Self.timing(inbox: 10), script: [.slowSend(.milliseconds(200))])
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a"]))
        let accepted = Self.frames(0..<60).map { session.send($0) }
        #expect(accepted.contains(false))
        #expect(accepted.filter { $0 }.count < 60)
        session.cancel()
    }

    @Test func aProviderThatNeverFinishesCannotHoldUpTheFinish() async throws {
        let wire = ScriptedWire(timing: Self.timing(start: .milliseconds(300), finish: .milliseconds(300)), script: [.neverFinish])
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a"]))
        let events = Self.collect(session)
        await Self.feed(session, Self.frames(0..<15))
        let clock = ContinuousClock()
        let asked = clock.now
        let usage = await session.finish()
        // 300 ms in an idle process; the bound is loose because a loaded test run starves timers.
        #expect(clock.now - asked < .seconds(20))
        #expect(usage.audioMs == 15 * 20)
        _ = await events.value
    }

    @Test func aProviderThatNeverStartsTimesOutAndIsRetried() async throws {
        let wire = ScriptedWire(timing: Self.timing(start: .milliseconds(200)), script: [.neverStart])
        let session = try await Self.open(wire, keys: ScriptedKeys(["key-a"]))
        let events = Self.collect(session)
        let frames = Self.frames(0..<20)
        await Self.feed(session, frames)
        _ = await session.finish()
        #expect(wire.tasks.count == 2)
        #expect(wire.tasks.first?.packets.isEmpty == true)
        #expect(wire.tasks.last?.packets == frames.map(\.packet))
        #expect(Self.finals(await events.value).last?.endMs == 400)
    }
}
