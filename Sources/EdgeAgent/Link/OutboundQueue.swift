import Synchronization

/// What the link writes to one stream connection, in order, taken by one writer as fast as the
/// socket accepts it. Bounded while central reads slowly: past `frameCapacity` queued audio
/// frames, each new frame pushes the oldest queued frame out (counted). Control messages are
/// few and never dropped.
///
/// The link sizes it like its `ReplayBuffer` (10 s of 20 ms frames). Every queued frame is
/// unacknowledged and the queue holds the newest ones in sequence order, so a frame it drops is
/// one the replay buffer has already let go of: nothing a resume could still replay is lost here.
final class OutboundQueue: Sendable {
    enum Item: Sendable, Equatable {
        case text(String)
        case frame([UInt8])
        case close
    }

    private struct State {
        var items: [Item] = []
        var head = 0
        var frames = 0
        var dropped = 0
        var finished = false
        /// The writer, waiting for an item (only while nothing is queued).
        var waiter: CheckedContinuation<Item?, Never>?

        mutating func popFirst() -> Item? {
            guard head < items.count else { return nil }
            let item = items[head]
            head += 1
            if case .frame = item { frames -= 1 }
            compact()
            return item
        }

        mutating func dropOldestFrame() {
            guard let index = items[head...].firstIndex(where: { if case .frame = $0 { true } else { false } }) else { return }
            if index == head { head += 1 } else { items.remove(at: index) }
            frames -= 1
            dropped += 1
            compact()
        }

        private mutating func compact() {
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 256, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
        }
    }

    let frameCapacity: Int
    private let state = Mutex(State())

    init(frameCapacity: Int) {
        self.frameCapacity = max(1, frameCapacity)
    }

    /// Frames pushed out so far because the queue was full.
    var droppedFrames: Int { state.withLock { $0.dropped } }
    /// Frames waiting for the writer.
    var queuedFrames: Int { state.withLock { $0.frames } }

    /// Queues `item` (nothing after `finish`). True when an older frame was dropped for it.
    @discardableResult
    func push(_ item: Item) -> Bool {
        let (waiter, dropped): (CheckedContinuation<Item?, Never>?, Bool) = state.withLock { state in
            guard !state.finished else { return (nil, false) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, false)
            }
            var dropped = false
            if case .frame = item {
                if state.frames >= frameCapacity {
                    state.dropOldestFrame()
                    dropped = true
                }
                state.frames += 1
            }
            state.items.append(item)
            return (nil, dropped)
        }
        waiter?.resume(returning: item)
        return dropped
    }

    /// No more items: the writer gets what is queued, then nil.
    func finish() {
        state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }?.resume(returning: nil)
    }

    /// The next item, waiting for one; nil once finished and drained, or when the writer's task
    /// is cancelled. One writer only.
    func next() async -> Item? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                let ready: Item?? = state.withLock { state in
                    if let item = state.popFirst() { return .some(item) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume(returning: nil)
        }
    }
}
