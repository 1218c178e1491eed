/// A failure a test queues on a fake for what it serves next; `count` is how many it applies to
/// (default 1).
public protocol FakeInjection: Codable, Sendable {
    var count: Int? { get set }
}

/// Queued injections, handed out in order, each as many times as its `count` says.
public struct FakeInjectionQueue<Injection: FakeInjection>: Sendable {
    private var queued: [Injection] = []

    public init() {}

    public mutating func push(_ injection: Injection) { queued.append(injection) }

    public mutating func take() -> Injection? {
        guard var first = queued.first else { return nil }
        let remaining = (first.count ?? 1) - 1
        if remaining > 0 {
            first.count = remaining
            queued[0] = first
        } else {
            queued.removeFirst()
        }
        return first
    }

    public mutating func removeAll() { queued.removeAll() }
}
