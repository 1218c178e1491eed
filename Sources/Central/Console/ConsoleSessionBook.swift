import Foundation

/// Signed-in console sessions of this instance: the cookie's value is a random token, kept here
/// only as its SHA-256. A session ends on sign-out, after `idleTimeout` without a request, after
/// `maxAge` in any case, or when its operator is disabled. Sessions live in memory: a restart,
/// or a load balancer sending the browser to another instance, asks the operator to sign in
/// again (docs/operations.md).
public final class ConsoleSessionBook: Sendable {
    public struct Session: Sendable, Equatable {
        public var signedIn: AuthenticatedOperator
        public var csrfToken: String
        public var createdAt: Date
        public var lastSeenAt: Date
    }

    public static let cookieName = "central_console"
    let idleTimeout: TimeInterval
    let maxAge: TimeInterval
    /// Beyond this many, the least recently used session goes: sign-ins cannot grow memory.
    let capacity: Int
    private let sessions = LockedValue<[String: Session]>([:])

    public init(idleTimeout: TimeInterval = 15 * 60, maxAge: TimeInterval = 12 * 3600, capacity: Int = 1000) {
        self.idleTimeout = idleTimeout
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// A new session: the cookie value to set and the CSRF token the page sends back on changes.
    public func open(for signedIn: AuthenticatedOperator, now: Date) -> (cookie: String, session: Session) {
        let cookie = RandomIdentifier.make(prefix: "cs_", words: 4)
        let session = Session(
            signedIn: signedIn, csrfToken: RandomIdentifier.make(prefix: "csrf_", words: 4), createdAt: now, lastSeenAt: now)
        let key = Self.key(cookie)
        sessions.withLock { table in
            table = table.filter { isLive($0.value, now: now) }
            if table.count >= capacity, let oldest = table.min(by: { $0.value.lastSeenAt < $1.value.lastSeenAt })?.key {
                table[oldest] = nil
            }
            table[key] = session
        }
        return (cookie, session)
    }

    /// The live session behind a cookie, marked as used now; nil (and forgotten) once it lapsed.
    public func session(cookie: String, now: Date) -> Session? {
        let key = Self.key(cookie)
        return sessions.withLock { table -> Session? in
            guard var session = table[key] else { return nil }
            guard isLive(session, now: now) else {
                table[key] = nil
                return nil
            }
            session.lastSeenAt = now
            table[key] = session
            return session
        }
    }

    public func close(cookie: String) {
        let key = Self.key(cookie)
        sessions.withLock { $0[key] = nil }
    }

    /// Ends every session of an operator (they were disabled).
    public func closeAll(operatorName: String) {
        sessions.withLock { table in table = table.filter { $0.value.signedIn.name != operatorName || $0.value.signedIn.sharedToken } }
    }

    var count: Int { sessions.value.count }

    private func isLive(_ session: Session, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) < idleTimeout && now.timeIntervalSince(session.createdAt) < maxAge
    }

    private static func key(_ cookie: String) -> String { LicenseKey.hash(cookie) }
}
