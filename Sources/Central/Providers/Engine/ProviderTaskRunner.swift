import Foundation
import Logging
import Protocol

/// Runs one provider task through the adapter's wire: the start, audio from the inbox as the
/// task accepts it, the deadlines (start, idle, rotation, finish), the last results. A reader
/// turns the provider's events into session results while a writer feeds audio.
final class ProviderTaskRunner: Sendable {
    enum Outcome: Sendable, Equatable {
        /// The session's audio ended and the task finished.
        case inputEnded
        /// The session was cancelled.
        case cancelled
        /// The task reached the rotation length and finished; continue with a new task.
        case rotated
        /// No audio for a while: the task finished; wait for audio before the next one.
        case idle
    }

    let wire: any ProviderWire
    let timing: ProviderTiming
    let configuration: ProviderSessionConfiguration
    let inbox: ProviderInbox
    let relay: ProviderRelayState
    let sink: AsyncStream<ProviderEvent>.Continuation
    let logger: Logger

    init(
        wire: any ProviderWire, configuration: ProviderSessionConfiguration, inbox: ProviderInbox,
        relay: ProviderRelayState, sink: AsyncStream<ProviderEvent>.Continuation, logger: Logger
    ) {
        self.wire = wire
        timing = wire.timing
        self.configuration = configuration
        self.inbox = inbox
        self.relay = relay
        self.sink = sink
        self.logger = logger
    }

    /// Ends the session with `code`, then drains the inbox so the session's `finish()` returns.
    func fail(_ code: ErrorCode, _ message: String) async {
        sink.yield(.failed(code, message))
        guard !relay.read(\.inputEnded) else { return }
        while let item = await inbox.next() {
            if case .end = item { return }
        }
    }

    /// Waits for the next audio frame; false when the audio ended first.
    func awaitAudio() async -> Bool {
        guard !relay.read(\.inputEnded) else { return false }
        while let item = await inbox.next() {
            switch item {
            case .audio(let frame):
                relay.accept(frame)
                return true
            case .tick: continue
            case .end:
                relay.markInputEnded()
                return false
            }
        }
        return false
    }

    func runTask(key: ProviderKeyLease) async throws -> Outcome {
        relay.beginTask()
        let result = LockedValue<Outcome?>(nil)
        do {
            try await wire.withTask(key: key, configuration: configuration, logger: logger) { channel in
                let outcome = try await self.exchange(channel)
                result.set(outcome)
            }
        } catch let failure as ProviderFailure {
            throw failure
        } catch {
            if let outcome = result.value { return outcome }
            throw ProviderFailure.transient(.providerUnavailable, "cannot reach \(wire.displayName) (\(type(of: error)))")
        }
        guard let outcome = result.value else {
            throw ProviderFailure.transient(.providerUnavailable, "\(wire.displayName) closed the connection during the task")
        }
        return outcome
    }

    private enum Finished: Sendable {
        case reader
        case writer(Outcome)
    }

    private func exchange(_ channel: any ProviderTaskChannel) async throws -> Outcome {
        let writerOutcome = LockedValue<Outcome?>(nil)
        return try await withThrowingTaskGroup(of: Finished.self) { group in
            group.addTask {
                try await self.read(channel)
                return .reader
            }
            group.addTask {
                let outcome = try await self.write(channel, decided: writerOutcome)
                return .writer(outcome)
            }
            defer { group.cancelAll() }
            while let finished = try await group.next() {
                switch finished {
                case .reader:
                    // The task finished: the writer has asked for it (or the provider ended the task on its own).
                    relay.completeTask()
                    return writerOutcome.value ?? (relay.read(\.inputEnded) ? .inputEnded : .rotated)
                case .writer(.cancelled):
                    return .cancelled
                case .writer(let outcome):
                    // The finish went out but the task never finished: results after it are lost.
                    logger.warning("\(wire.displayName) did not finish the task in time", metadata: ["task": "\(channel.taskID)"])
                    relay.completeTask()
                    return outcome
                }
            }
            throw ProviderFailure.transient(.providerUnavailable, "the \(wire.displayName) task ended unexpectedly")
        }
    }

    /// Events in; returns when the task finished, throws when it failed or the connection was lost.
    private func read(_ channel: any ProviderTaskChannel) async throws {
        try await channel.read { event in
            for result in relay.apply(event) { sink.yield(result) }
            // The writer holds audio until the task started: wake it.
            if event == .started { inbox.tick() }
        }
    }

    /// Audio out once the task started, then the finish. `decided` learns why the task is
    /// finishing as soon as the finish goes out, so a task end that beats this function's
    /// return still knows (idle vs rotation).
    private func write(_ channel: any ProviderTaskChannel, decided: LockedValue<Outcome?>) async throws -> Outcome {
        let clock = ContinuousClock()
        let openedAt = clock.now
        var lastAudioAt = clock.now
        var finishing: (outcome: Outcome, since: ContinuousClock.Instant)?

        func sendUnsent() async throws {
            guard relay.read(\.taskStarted) else { return }
            try await channel.send(relay.takeUnsent())
        }

        func finish(_ outcome: Outcome) async throws {
            guard finishing == nil else { return }
            guard relay.read(\.taskStarted) else { return }
            try await sendUnsent()
            try await channel.finish()
            finishing = (outcome, clock.now)
            decided.set(outcome)
        }

        while true {
            guard let item = await inbox.next() else { return .cancelled }
            switch item {
            case .audio(let frame):
                relay.accept(frame)
                lastAudioAt = clock.now
                if finishing == nil { try await sendUnsent() }
            case .end:
                relay.markInputEnded()
            case .tick:
                break
            }
            let started = relay.read(\.taskStarted)
            if let finishing {
                if clock.now - finishing.since > timing.finishTimeout { return finishing.outcome }
                continue
            }
            if !started {
                if clock.now - openedAt > timing.startTimeout {
                    throw ProviderFailure.transient(.providerTimeout, "\(wire.displayName) did not start the task in time")
                }
                continue
            }
            try await sendUnsent()
            let (inputEnded, taskMs, lastFinalMs, sessionMs) = relay.read {
                ($0.inputEnded, $0.taskSentMs, $0.lastFinalSessionMs, $0.sessionAudioMs)
            }
            if inputEnded {
                try await finish(.inputEnded)
            } else if clock.now - lastAudioAt > timing.idleFinishAfter {
                try await finish(.idle)
            } else if taskMs >= timing.rotateAfterMs {
                // Rotate at a sentence end (a final within the last second), or 30 s late at most.
                if sessionMs - lastFinalMs < 1_000 || taskMs >= timing.rotateAfterMs + 30_000 {
                    try await finish(.rotated)
                }
            }
        }
    }
}
