import Crypto
import Foundation

/// Signed-in console sessions, kept in the store so that every central instance sharing the
/// database knows them (a load balancer may send each request elsewhere). The cookie's value is
/// a random token, stored only as its SHA-256; the CSRF token derives from it. A session ends on
/// sign-out, after `idleTimeout` without a request, after `maxAge` in any case, when its
/// operator is disabled (the store drops their sessions in the same transaction), or, for the
/// shared admin token, when that token is rotated.
public struct ConsoleSessionBook: Sendable {
    /// A live session and the CSRF token its page sends back on changes.
    public struct Session: Sendable, Equatable {
        public var signedIn: AuthenticatedOperator
        public var csrfToken: String
    }

    public static let cookieName = "central_console"
    let store: any ConsoleSessionStore
    let policy: ConsoleSessionPolicy
    private let adminTokenDigest: [UInt8]

    public init(store: any ConsoleSessionStore, policy: ConsoleSessionPolicy, adminToken: String) {
        self.store = store
        self.policy = policy
        self.adminTokenDigest = Array(SHA256.hash(data: Data(adminToken.utf8)))
    }

    var idleTimeout: TimeInterval { policy.idleTimeout }

    /// A new session: the cookie value to set and the session; nil when the operator was
    /// disabled meanwhile (the store checks in the same transaction).
    public func open(for signedIn: AuthenticatedOperator, now: Date) async throws -> (cookie: String, session: Session)? {
        let cookie = ConsoleSessionPolicy.newCookie()
        let hash = ConsoleSessionPolicy.tokenHash(cookie: cookie)
        let stored = ConsoleSession(
            tokenHash: hash, signedIn: signedIn, createdAt: now, lastSeenAt: now,
            sharedTokenTag: signedIn.sharedToken ? sharedTokenTag(cookie) : nil)
        guard try await store.insertConsoleSession(
            stored, capacity: policy.capacity, perOperator: policy.perOperator, idleBefore: policy.idleCutoff(now: now),
            createdBefore: policy.ageCutoff(now: now))
        else { return nil }
        return (cookie, Self.session(stored, cookie: cookie))
    }

    /// The live session behind a cookie, marked as used now; nil (and forgotten) once it lapsed.
    public func session(cookie: String, now: Date) async throws -> Session? {
        let hash = ConsoleSessionPolicy.tokenHash(cookie: cookie)
        guard let stored = try await store.consoleSession(tokenHash: hash) else { return nil }
        // A shared-token session from before the admin token was rotated is refused, not deleted:
        // during a rolling rotation an instance still on the other token must not end it for
        // the rest (the idle and age trims remove it later).
        let tokenStillValid = !stored.signedIn.sharedToken || stored.sharedTokenTag.map {
            SecretComparison.equal($0, digest: Array(SHA256.hash(data: Data(sharedTokenTag(cookie).utf8))))
        } == true
        guard tokenStillValid else { return nil }
        guard policy.isLive(stored, now: now) else {
            try await store.deleteConsoleSession(tokenHash: hash)
            return nil
        }
        if policy.needsTouch(stored, now: now) { try await store.touchConsoleSession(tokenHash: hash, at: now) }
        return Self.session(stored, cookie: cookie)
    }

    public func close(cookie: String) async throws {
        try await store.deleteConsoleSession(tokenHash: ConsoleSessionPolicy.tokenHash(cookie: cookie))
    }

    private func sharedTokenTag(_ cookie: String) -> String {
        ConsoleSessionPolicy.sharedTokenTag(adminTokenDigest: adminTokenDigest, cookie: cookie)
    }

    private static func session(_ stored: ConsoleSession, cookie: String) -> Session {
        Session(signedIn: stored.signedIn, csrfToken: ConsoleSessionPolicy.csrfToken(cookie: cookie))
    }
}
