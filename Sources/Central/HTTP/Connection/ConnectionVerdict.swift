import Synchronization

/// What became of one connection, shared between its channel handlers and the task that serves
/// it: whether any request head was accepted, and whether central closed it on its own.
final class ConnectionVerdict: Sendable {
    private let served = Atomic<Bool>(false)
    private let shed = Atomic<Bool>(false)

    func markServed() { served.store(true, ordering: .relaxed) }
    func markShed() { shed.store(true, ordering: .relaxed) }

    /// Nothing a route handled, or closed by central's own limits: what the HTTP server logs
    /// about such a connection ("error handling upgrade result", …) is noise, one line per
    /// stalled socket of a slowloris. The guard counts them in `/metrics` instead.
    var isNoise: Bool {
        shed.load(ordering: .relaxed) || !served.load(ordering: .relaxed)
    }
}
