import Synchronization

/// A `Mutex` that can be shared between tasks and closures (a `Mutex` itself cannot be copied).
public final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) {
        mutex = Mutex(value)
    }

    public var value: Value { mutex.withLock { $0 } }

    public func set(_ value: Value) {
        mutex.withLock { $0 = value }
    }

    @discardableResult
    public func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}
