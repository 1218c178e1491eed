import Foundation
import Logging
import Protocol

/// One edge session relayed to DashScope, possibly over several tasks: a task per key attempt,
/// a fresh task after an idle pause or on rotation. Key failures fail over to the next key and
/// replay the unconfirmed audio, so the edge notices nothing; only when no key or retry is left
/// does the session get `.failed` with our stable code.
final class DashScopeProviderSession: SpeechProviderSession {
    let events: AsyncStream<ProviderEvent>
    private let sink: AsyncStream<ProviderEvent>.Continuation
    private let inbox: ProviderInbox
    private let relay: DashScopeRelayState
    private let worker: Task<ProviderUsage, Never>
    private let ticker: Task<Void, Never>
    /// How long `finish()` waits for the last results before giving up on the provider.
    private let finishDeadline: Duration

    init(
        configuration: ProviderSessionConfiguration, settings: DashScopeSettings, keys: any ProviderKeySource,
        firstKey: ProviderKeyLease, logger: Logger
    ) {
        let (events, sink) = AsyncStream<ProviderEvent>.makeStream(bufferingPolicy: .bufferingOldest(1_024))
        let inbox = ProviderInbox(capacity: settings.inboxCapacity)
        self.events = events
        self.sink = sink
        self.inbox = inbox
        let interval = settings.tickInterval
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                inbox.tick()
            }
        }
        let relay = DashScopeRelayState(sourceLanguage: configuration.sourceLanguage, targetLanguage: configuration.targetLanguage)
        self.relay = relay
        finishDeadline = settings.startTimeout + settings.finishTimeout + .seconds(5)
        let runner = DashScopeTaskRunner(
            configuration: configuration, settings: settings, inbox: inbox, relay: relay, sink: sink, logger: logger)
        worker = Task {
            await Self.relay(runner: runner, keys: keys, firstKey: firstKey, settings: settings, logger: logger)
            sink.finish()
            let (audio, reported) = relay.read { ($0.providerAudioMs, $0.reportedSeconds) }
            return ProviderUsage(audioMs: audio, reportedSeconds: reported > 0 ? reported : nil)
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
        let (audio, reported) = relay.read { ($0.providerAudioMs, $0.reportedSeconds) }
        return ProviderUsage(audioMs: audio, reportedSeconds: reported > 0 ? reported : nil)
    }

    func cancel() {
        // The session's event pump waits for the stream to end; a stuck worker must not hold it.
        sink.finish()
        inbox.cancel()
        worker.cancel()
        ticker.cancel()
    }

    /// Ends the session: the edge gets our code and our sentence, the log gets DashScope's text.
    private static func end(_ runner: DashScopeTaskRunner, _ failure: DashScopeFailure, logger: Logger) async {
        logger.error("DashScope session ended", metadata: [
            "session": "\(runner.configuration.sessionID)", "code": "\(failure.code)", "provider_said": "\(failure.message)",
        ])
        await runner.fail(failure.code, ProviderFailureSentence.sentence(for: failure.code))
    }

    /// Runs tasks until the audio ends, failing over between keys and retrying transient errors.
    private static func relay(
        runner: DashScopeTaskRunner, keys: any ProviderKeySource, firstKey: ProviderKeyLease, settings: DashScopeSettings,
        logger: Logger
    ) async {
        var next: ProviderKeyLease? = firstKey
        var keyFailures = 0
        var transientFailures = 0
        var lastFailure: DashScopeFailure?
        while !Task.isCancelled {
            // Nothing left to recognise: no task needed.
            if runner.relay.read({ $0.inputEnded && $0.unconfirmed.isEmpty }) { return }
            var candidate = next
            if candidate == nil { candidate = await keys.checkout(provider: DashScopeSpeechProvider.name) }
            guard let key = candidate else {
                let failure = lastFailure ?? .transient(.providerUnavailable, "no usable DashScope key")
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
                    // Audio that arrived after finish-task still needs a task; the loop's first
                    // check ends the session when nothing is left.
                    continue
                case .idle:
                    // Costs nothing while the edge sends nothing; the next audio opens a task.
                    guard await runner.awaitAudio() else { return }
                }
            } catch {
                let failure = (error as? DashScopeFailure) ?? .transient(.providerUnavailable, "\(error)")
                lastFailure = failure
                runner.relay.abortTask()
                await keys.report(keyID: key.id, outcome: failure.keyOutcome)
                logger.warning("DashScope task failed", metadata: ["key": "\(key.id)", "failure": "\(failure.message)"])
                switch failure {
                case .authFailed, .rateLimited:
                    keyFailures += 1
                    // The next checkout skips the cooled key; give up when none is left.
                    if keyFailures > 16 {
                        await Self.end(runner, failure, logger: logger)
                        return
                    }
                case .transient:
                    transientFailures += 1
                    if transientFailures > settings.retries {
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
    }
}
