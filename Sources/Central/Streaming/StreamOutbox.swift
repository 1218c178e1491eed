import Protocol
import Synchronization

/// The control messages on their way to the session's current connection, in one order for
/// everyone who writes them: the session actor (results, quota, stop) and the event loop that
/// takes the frames (its refusals). Bounded: a slow edge loses the newest, counted.
final class StreamOutbox: Sendable {
    private let continuation = Mutex<AsyncStream<ControlMessage>.Continuation?>(nil)
    private let capacity: Int
    private let metrics: ProviderStreamMetrics

    init(capacity: Int, metrics: ProviderStreamMetrics) {
        self.capacity = capacity
        self.metrics = metrics
    }

    /// A new connection's stream; the previous one (a connection taken over) ends.
    func open() -> AsyncStream<ControlMessage> {
        let (stream, next) = AsyncStream<ControlMessage>.makeStream(bufferingPolicy: .bufferingOldest(capacity))
        continuation.withLock { current in
            current?.finish()
            current = next
        }
        return stream
    }

    func send(_ message: ControlMessage) {
        let result = continuation.withLock { $0?.yield(message) }
        if case .dropped = result { metrics.recordFrame("dropped_slow_edge") }
    }

    /// Ends the current connection's stream (its writer closes the socket).
    func close() {
        continuation.withLock { current in
            current?.finish()
            current = nil
        }
    }

    var isOpen: Bool { continuation.withLock { $0 != nil } }
}
