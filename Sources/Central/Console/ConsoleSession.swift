import Foundation

/// A signed-in console session as the store keeps it: keyed by the hash of its cookie, with
/// who signed in and when it was created and last used. A session of the shared admin token
/// carries a tag of that token (`ConsoleSessionPolicy.sharedTokenTag`), so rotating the token
/// ends its sessions.
public struct ConsoleSession: Sendable, Equatable {
    public var tokenHash: String
    public var signedIn: AuthenticatedOperator
    public var createdAt: Date
    public var lastSeenAt: Date
    public var sharedTokenTag: String?

    public init(tokenHash: String, signedIn: AuthenticatedOperator, createdAt: Date, lastSeenAt: Date, sharedTokenTag: String? = nil) {
        self.tokenHash = tokenHash
        self.signedIn = signedIn
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.sharedTokenTag = sharedTokenTag
    }
}
