import Foundation

/// Signed-in console sessions, kept in the store so that every central instance sharing the
/// database knows them (a load balancer may send each request elsewhere). The cookie's value is
/// a random token, stored only as its SHA-256; the CSRF token derives from it. A session ends on
/// sign-out, after `idleTimeout` without a request, after `maxAge` in any case, or when its
/// operator is disabled (the store drops their sessions in the same transaction).
public struct ConsoleSessionBook: Sendable {
    /// A live session and the CSRF token its page sends back on changes.
    public struct Session: Sendable, Equatable {
        public var signedIn: AuthenticatedOperator
        public var csrfToken: String
        public var createdAt: Date
        public var lastSeenAt: Date
    }

    public static let cookieName = "central_console"
    let store: any ConsoleSessionStore
    let policy: ConsoleSessionPolicy

    public init(store: any ConsoleSessionStore, policy: ConsoleSessionPolicy) {
        self.store = store
        self.policy = policy
    }

    var idleTimeout: TimeInterval { policy.idleTimeout }

    /// A new session: the cookie value to set and the session.
    public func open(for signedIn: AuthenticatedOperator, now: Date) async throws -> (cookie: String, session: Session) {
        let cookie = ConsoleSessionPolicy.newCookie()
        let stored = ConsoleSession(
            tokenHash: ConsoleSessionPolicy.tokenHash(cookie: cookie), signedIn: signedIn, createdAt: now, lastSeenAt: now)
        try await store.insertConsoleSession(
            stored, capacity: policy.capacity, idleBefore: policy.idleCutoff(now: now), createdBefore: policy.ageCutoff(now: now))
        return (cookie, Self.session(stored, cookie: cookie))
    }

    /// The live session behind a cookie, marked as used now; nil (and forgotten) once it lapsed.
    public func session(cookie: String, now: Date) async throws -> Session? {
        let hash = ConsoleSessionPolicy.tokenHash(cookie: cookie)
        guard var stored = try await store.consoleSession(tokenHash: hash) else { return nil }
        guard policy.isLive(stored, now: now) else {
            try await store.deleteConsoleSession(tokenHash: hash)
            return nil
        }
        if policy.needsTouch(stored, now: now) {
            try await store.touchConsoleSession(tokenHash: hash, at: now)
            stored.lastSeenAt = now
        }
        return Self.session(stored, cookie: cookie)
    }

    public func close(cookie: String) async throws {
        try await store.deleteConsoleSession(tokenHash: ConsoleSessionPolicy.tokenHash(cookie: cookie))
    }

    private static func session(_ stored: ConsoleSession, cookie: String) -> Session {
        Session(
            signedIn: stored.signedIn, csrfToken: ConsoleSessionPolicy.csrfToken(cookie: cookie), createdAt: stored.createdAt,
            lastSeenAt: stored.lastSeenAt)
    }
}
