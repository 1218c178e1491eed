import Foundation
import Protocol

/// A provider key handed to one task. `secret` goes into the provider's auth header and nowhere
/// else: never a log line, a response body or anything sent to an edge.
public struct ProviderKeyLease: Sendable {
    public var id: String
    public var secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }
}

/// How one use of a key went, so the source can rotate, cool down and count.
public enum ProviderKeyOutcome: Sendable, Equatable {
    /// A task ran; `audioMs` is what it was sent.
    case used(audioMs: Int64)
    /// The provider refused the key (wrong, revoked, account in arrears): cooled down for long.
    case authFailed(String)
    /// The provider throttled the key: cooled down briefly.
    case rateLimited(String)
    /// Any other failure while this key was in use (counted, no cool-down).
    case failed(String)
}

/// The seam between a provider adapter and its keys (the vault in production, a list in tests).
public protocol ProviderKeySource: Sendable {
    /// The next usable key for `provider`, round-robin, skipping disabled and cooling keys.
    /// A key counts as in use from its checkout until its `report` (or `release`).
    func checkout(provider: String) async -> ProviderKeyLease?
    func report(keyID: String, outcome: ProviderKeyOutcome) async
    /// A checked-out key given back unused (the session ended before its first task).
    func release(keyID: String) async
    /// Whether every usable key of `provider` is running as many tasks as it may.
    func atCapacity(provider: String) async -> Bool
}

extension ProviderKeySource {
    public func release(keyID: String) async {}
    public func atCapacity(provider: String) async -> Bool { false }
}
