import Central

/// How a fake provider treats a key.
public enum FakeKeyStatus: Equatable, Sendable {
    case valid
    case unknown
    case revoked
    case rateLimited
}

/// Which keys the fake accepts; read synchronously by the connection gate on the event loop.
public final class FakeKeyBook: Sendable {
    private struct Sets {
        var valid: Set<String>
        var revoked: Set<String> = []
        var throttled: Set<String> = []
    }

    private let sets: LockedValue<Sets>

    public init(valid: Set<String>) {
        sets = LockedValue(Sets(valid: valid))
    }

    public func status(of key: String?) -> FakeKeyStatus {
        let sets = sets.value
        guard let key, sets.valid.contains(key) else { return key.map { sets.revoked.contains($0) } == true ? .revoked : .unknown }
        if sets.revoked.contains(key) { return .revoked }
        if sets.throttled.contains(key) { return .rateLimited }
        return .valid
    }

    public func revoke(_ key: String) { sets.withLock { _ = $0.revoked.insert(key) } }
    public func throttle(_ key: String) { sets.withLock { _ = $0.throttled.insert(key) } }
    public func restore(_ key: String) {
        sets.withLock {
            $0.revoked.remove(key)
            $0.throttled.remove(key)
            $0.valid.insert(key)
        }
    }
}
