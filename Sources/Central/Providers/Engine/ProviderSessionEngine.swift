import Foundation
import Logging
import Protocol

/// One edge session relayed to a provider through its wire, possibly over several tasks: a task
/// per key attempt, a fresh task after an idle pause or on rotation. Key failures fail over to
/// the next key and replay the unconfirmed audio, so the edge notices nothing; only when no key
/// or retry is left does the session get `.failed` with our stable code.
final class ProviderSessionEngine: SpeechProviderSession {
    let events: AsyncStream<ProviderEvent>
    private let sink: AsyncStream<ProviderEvent>.Continuation
    private let inbox: ProviderInbox
    private let relay: ProviderRelayState
    private let worker: Task<ProviderUsage, Never>
    private let ticker: Task<Void, Never>
    /// How long `finish()` waits for the last results before giving up on the provider.
    private let finishDeadline: Duration

    /// Opens a session on `wire`, failing at the start, not mid-stream, when no key can be used at all.
    static func open(
        wire: any ProviderWire, configuration: ProviderSessionConfiguration, keys: any ProviderKeySource, logger: Logger
    ) async throws -> ProviderSessionEngine {
        try wire.check(configuration)
        guard let first = await keys.checkout(provider: wire.name) else {
            if await keys.atCapacity(provider: wire.name) {
                throw ProviderError(
                    .providerAtCapacity, "Every \(wire.displayName) key is running as many sessions as it may. Try again in a moment.")
            }
            throw ProviderError(
                .providerUnavailable, "No usable \(wire.displayName) key: add one, or wait for a throttled key to cool down.")
        }
        return ProviderSessionEngine(
            wire: wire, configuration: configuration, keys: keys, firstKey: first,
            logger: logger.with(metadata: ["session": "\(configuration.sessionID)"]))
    }

    init(
        wire: any ProviderWire, configuration: ProviderSessionConfiguration, keys: any ProviderKeySource,
        firstKey: ProviderKeyLease, logger: Logger
    ) {
        let timing = wire.timing
        let (events, sink) = AsyncStream<ProviderEvent>.makeStream(bufferingPolicy: .bufferingOldest(1_024))
        let inbox = ProviderInbox(capacity: timing.inboxCapacity)
        self.events = events
        self.sink = sink
        self.inbox = inbox
        let interval = timing.tickInterval
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                inbox.tick()
            }
        }
        let relay = ProviderRelayState(sourceLanguage: configuration.sourceLanguage, targetLanguage: configuration.targetLanguage)
        self.relay = relay
        finishDeadline = timing.startTimeout + timing.finishTimeout + .seconds(5)
        let runner = ProviderTaskRunner(
            wire: wire, configuration: configuration, inbox: inbox, relay: relay, sink: sink, logger: logger)
        worker = Task {
            await Self.relay(runner: runner, keys: keys, firstKey: firstKey, logger: logger)
            sink.finish()
            return Self.usage(relay)
        }
    }

    func send(_ frame: AudioFrame) -> Bool {
        inbox.push(frame)
    }

    /// Bounded: a provider that stalls (a connect that never completes, a task that never
    /// finishes) must not hold up the session's final bill and lease release.
    func finish() async -> ProviderUsage {
        inbox.end()
        let worker = self.worker
        let deadline = finishDeadline
        let usage = await withCheckedContinuation { (continuation: CheckedContinuation<ProviderUsage?, Never>) in
            let once = LockedValue<CheckedContinuation<ProviderUsage?, Never>?>(continuation)
            let take: @Sendable () -> CheckedContinuation<ProviderUsage?, Never>? = {
                once.withLock { pending in
                    defer { pending = nil }
                    return pending
                }
            }
            Task {
                let usage = await worker.value
                take()?.resume(returning: usage)
            }
            Task {
                try? await Task.sleep(for: deadline)
                take()?.resume(returning: nil)
            }
        }
        ticker.cancel()
        if let usage { return usage }
        cancel()
        return Self.usage(relay)
    }

    func cancel() {
        // The session's event pump waits for the stream to end; a stuck worker must not hold it.
        sink.finish()
        inbox.cancel()
        worker.cancel()
        ticker.cancel()
    }

    private static func usage(_ relay: ProviderRelayState) -> ProviderUsage {
        let (audio, reported, tokens) = relay.read { ($0.providerAudioMs, $0.reportedSeconds, $0.reportedTokens) }
        return ProviderUsage(audioMs: audio, reportedSeconds: reported > 0 ? reported : nil, reportedTokens: tokens > 0 ? tokens : nil)
    }

    /// Ends the session: the edge gets our code and our sentence, the log gets the provider's text.
    private static func end(_ runner: ProviderTaskRunner, _ failure: ProviderFailure, logger: Logger) async {
        logger.error("\(runner.wire.displayName) session ended", metadata: [
            "session": "\(runner.configuration.sessionID)", "code": "\(failure.code)", "provider_said": "\(failure.message)",
        ])
        await runner.fail(failure.code, ProviderFailureSentence.sentence(for: failure.code))
    }

    /// Runs tasks until the audio ends, failing over between keys and retrying transient errors.
    private static func relay(
        runner: ProviderTaskRunner, keys: any ProviderKeySource, firstKey: ProviderKeyLease, logger: Logger
    ) async {
        let name = runner.wire.name, displayName = runner.wire.displayName, timing = runner.timing
        var next: ProviderKeyLease? = firstKey
        var keyFailures = 0
        var transientFailures = 0
        var lastFailure: ProviderFailure?
        while !Task.isCancelled {
            // Nothing left to recognise: no task needed (and the first key goes back unused).
            if runner.relay.read({ $0.inputEnded && $0.unconfirmed.isEmpty }) {
                if let next { await keys.release(keyID: next.id) }
                return
            }
            var candidate = next
            if candidate == nil { candidate = await keys.checkout(provider: name) }
            guard let key = candidate else {
                let failure = lastFailure ?? .transient(.providerUnavailable, "no usable \(displayName) key")
                await Self.end(runner, failure, logger: logger)
                return
            }
            next = nil
            do {
                let outcome = try await runner.runTask(key: key)
                await keys.report(keyID: key.id, outcome: .used(audioMs: Int64(runner.relay.read(\.taskSentMs))))
                keyFailures = 0
                transientFailures = 0
                switch outcome {
                case .cancelled:
                    return
                case .rotated, .inputEnded:
                    // Audio that arrived after the finish still needs a task; the loop's first
                    // check ends the session when nothing is left.
                    continue
                case .idle:
                    // Costs nothing while the edge sends nothing; the next audio opens a task.
                    // Audio that came while the task was finishing opens one at once: waiting
                    // for more would lose it when the session ends first.
                    if runner.relay.read({ $0.unconfirmed.isEmpty }) {
                        guard await runner.awaitAudio() else { return }
                    }
                }
            } catch {
                let failure = (error as? ProviderFailure) ?? .transient(.providerUnavailable, "\(error)")
                lastFailure = failure
                runner.relay.abortTask()
                await keys.report(keyID: key.id, outcome: failure.keyOutcome)
                logger.warning("\(displayName) task failed", metadata: ["key": "\(key.id)", "failure": "\(failure.message)"])
                switch failure {
                case .authFailed, .rateLimited:
                    keyFailures += 1
                    // The next checkout skips the cooled key; give up when none is left.
                    if keyFailures > timing.maxKeyFailures {
                        await Self.end(runner, failure, logger: logger)
                        return
                    }
                case .transient:
                    transientFailures += 1
                    if transientFailures > timing.retries {
                        await Self.end(runner, failure, logger: logger)
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(250 << min(transientFailures, 4)))
                case .fatal:
                    await Self.end(runner, failure, logger: logger)
                    return
                }
            }
        }
        // Cancelled before the first task: the key checked out at the start goes back.
        if let next { await keys.release(keyID: next.id) }
    }
}
