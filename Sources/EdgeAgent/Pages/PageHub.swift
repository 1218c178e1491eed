import Foundation
import Synchronization

/// The pages listening on `/ws`: each gets every event broadcast after it joined, after a
/// greeting of its own. A lock, not an actor, so a broadcast is a plain call from any task.
public final class PageHub: Sendable {
    private let pages = Mutex<[UUID: AsyncStream<TranslationEvent>.Continuation]>([:])

    public init() {}

    /// A new page: `greeting` first, then every broadcast.
    func add(greeting: [TranslationEvent]) -> (UUID, AsyncStream<TranslationEvent>) {
        let id = UUID()
        // A slow page loses old level readings rather than holding memory.
        let (stream, continuation) = AsyncStream<TranslationEvent>.makeStream(bufferingPolicy: .bufferingNewest(128))
        pages.withLock { pages in
            // Under the lock, so no broadcast can come between the greeting and the page joining.
            for event in greeting { continuation.yield(event) }
            pages[id] = continuation
        }
        return (id, stream)
    }

    /// Ends the page's stream; answers how many pages are left.
    func remove(_ id: UUID) -> Int {
        let (removed, left) = pages.withLock { pages in (pages.removeValue(forKey: id), pages.count) }
        removed?.finish()
        return left
    }

    /// One page only (an answer to something that page sent).
    func send(_ event: TranslationEvent, to id: UUID) {
        pages.withLock { $0[id] }?.yield(event)
    }

    func broadcast(_ event: TranslationEvent) {
        for continuation in pages.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    var isEmpty: Bool { pages.withLock { $0.isEmpty } }
}
