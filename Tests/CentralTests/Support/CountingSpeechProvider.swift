@testable import Central
import Foundation
import Protocol
import Synchronization

/// A test provider that records exactly what central forwarded to it: per session, the audio
/// (µs) and every sequence number it took, and how many sessions were open at once. With a
/// `capacity` and a `drainInterval` it is a slow provider whose bounded queue fills up.
final class CountingSpeechProvider: SpeechProvider {
    struct Ledger: Sendable {
        var forwardedMicroseconds: [String: Int64] = [:]
        var sequences: [String: [UInt32]] = [:]
        var open = 0
        var maxOpen = 0
        var opened = 0
    }

    let capacity: Int
    let drainInterval: Duration?
    let recorded = Mutex(Ledger())

    init(capacity: Int = 10_000, drainInterval: Duration? = nil) {
        self.capacity = capacity
        self.drainInterval = drainInterval
    }

    var info: ProviderInfo { ProviderInfo(name: "counting", model: nil, demo: true) }
    var catalog: LanguageCatalog { LanguageCatalog(provider: info, languages: DashScopeModel.gummyRealtime.languages) }
    func supports(source: String, target: String?) -> Bool { true }

    func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
        recorded.withLock {
            $0.open += 1
            $0.opened += 1
            $0.maxOpen = max($0.maxOpen, $0.open)
        }
        return Session(id: configuration.sessionID, provider: self)
    }

    var ledger: Ledger { recorded.withLock { $0 } }

    var totalForwardedMs: Int64 { ledger.forwardedMicroseconds.values.reduce(0, +) / 1000 }

    func forwardedMs(_ session: String) -> Int64 { (ledger.forwardedMicroseconds[session] ?? 0) / 1000 }

    final class Session: SpeechProviderSession {
        let id: String
        let provider: CountingSpeechProvider
        let events: AsyncStream<ProviderEvent>
        private let sink: AsyncStream<ProviderEvent>.Continuation
        private let queue = FrameQueue()
        private let closed = Mutex(false)
        private let drainer: Task<Void, Never>?

        init(id: String, provider: CountingSpeechProvider) {
            self.id = id
            self.provider = provider
            (events, sink) = AsyncStream<ProviderEvent>.makeStream()
            if let interval = provider.drainInterval {
                let queue = self.queue
                drainer = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        let frame = queue.frames.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                        if let frame { provider.record(frame, session: id) }
                    }
                }
            } else {
                drainer = nil
            }
        }

        func send(_ frame: AudioFrame) -> Bool {
            guard !closed.withLock({ $0 }) else { return false }
            guard provider.drainInterval != nil else {
                provider.record(frame, session: id)
                return true
            }
            return queue.frames.withLock { queue in
                guard queue.count < provider.capacity else { return false }
                queue.append(frame)
                return true
            }
        }

        func finish() async -> ProviderUsage {
            // A slow provider still works through what it was given before it finishes (a
            // stalled one is given up on after 5 s, as real providers' finishes are bounded;
            // 2 s was too short for 20 queued 1 ms drains on a loaded CI machine).
            let deadline = ContinuousClock.now + .seconds(5)
            while provider.drainInterval != nil, !queue.frames.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            close()
            return ProviderUsage(audioMs: provider.forwardedMs(id))
        }

        func cancel() { close() }

        private func close() {
            let first = closed.withLock { wasClosed in
                defer { wasClosed = true }
                return !wasClosed
            }
            guard first else { return }
            drainer?.cancel()
            sink.finish()
            provider.recorded.withLock { $0.open -= 1 }
        }
    }

    /// A slow provider's queue, shared with its draining task.
    final class FrameQueue: Sendable {
        let frames = Mutex<[AudioFrame]>([])
    }

    fileprivate func record(_ frame: AudioFrame, session: String) {
        recorded.withLock {
            $0.forwardedMicroseconds[session, default: 0] += Int64(frame.durationMicroseconds)
            $0.sequences[session, default: []].append(frame.sequence)
        }
    }
}
