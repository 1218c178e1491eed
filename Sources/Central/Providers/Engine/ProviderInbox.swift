import Protocol
import Synchronization

/// The bounded queue between a stream session and a provider worker. Audio is refused (not
/// queued without bound) when the worker falls behind; ticks wake the worker so it can notice
/// idle audio and overdue replies without timers of its own.
final class ProviderInbox: Sendable {
    enum Item: Sendable {
        case audio(AudioFrame)
        case tick
        /// No more audio: finish the task.
        case end
    }

    private struct State {
        var audio: [AudioFrame] = []
        var head = 0
        var pendingTick = false
        var ended = false
        /// `.end` is handed out once; afterwards the worker only sees ticks.
        var endDelivered = false
        var cancelled = false
        var waiter: CheckedContinuation<Item?, Never>?
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// False when the queue is full or finished: the frame is not accepted.
    func push(_ frame: AudioFrame) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Item?, Never>?) in
            guard !state.ended, !state.cancelled, state.audio.count - state.head < capacity else { return (false, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            state.audio.append(frame)
            return (true, nil)
        }
        waiter?.resume(returning: .audio(frame))
        return accepted
    }

    func tick() {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            guard let waiter = state.waiter else {
                state.pendingTick = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: .tick)
    }

    /// The worker drains queued audio, then sees `.end` (once).
    func end() {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            state.ended = true
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            state.endDelivered = true
            return waiter
        }
        waiter?.resume(returning: .end)
    }

    /// The worker sees nil at once; queued audio is dropped.
    func cancel() {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            state.cancelled = true
            state.audio = []
            state.head = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next item; nil after `cancel()` or when the calling task is cancelled.
    func next() async -> Item? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                let ready = state.withLock { state -> Item?? in
                    if state.cancelled || Task.isCancelled { return .some(nil) }
                    if state.head < state.audio.count {
                        let frame = state.audio[state.head]
                        state.head += 1
                        if state.head > 256, state.head * 2 > state.audio.count {
                            state.audio.removeFirst(state.head)
                            state.head = 0
                        }
                        return .some(.audio(frame))
                    }
                    if state.ended, !state.endDelivered {
                        state.endDelivered = true
                        return .some(.end)
                    }
                    if state.pendingTick {
                        state.pendingTick = false
                        return .some(.tick)
                    }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
