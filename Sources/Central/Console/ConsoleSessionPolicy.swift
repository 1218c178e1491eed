import Crypto
import Foundation

/// When a console session is still good, when its last use is worth writing down, and the
/// values its cookie implies. Pure: the store keeps sessions, this decides about them.
public struct ConsoleSessionPolicy: Sendable, Equatable {
    public var idleTimeout: TimeInterval
    public var maxAge: TimeInterval
    /// Sessions kept at most; signing in beyond it drops the least recently used, so sign-ins
    /// cannot grow the table without bound.
    public var capacity: Int
    /// Sessions kept per operator name: signing in again and again ends one's own oldest
    /// sessions, never other operators'.
    public var perOperator: Int

    public init(idleTimeout: TimeInterval = 15 * 60, maxAge: TimeInterval = 12 * 3600, capacity: Int = 1000, perOperator: Int = 5) {
        self.idleTimeout = idleTimeout
        self.maxAge = maxAge
        self.capacity = capacity
        self.perOperator = perOperator
    }

    public func isLive(_ session: ConsoleSession, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) < idleTimeout && now.timeIntervalSince(session.createdAt) < maxAge
    }

    /// The last use is written at most this often (not on every request): a session may end up
    /// to this much sooner than `idleTimeout` after its true last request.
    public var touchInterval: TimeInterval { min(30, idleTimeout / 4) }

    public func needsTouch(_ session: ConsoleSession, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) >= touchInterval
    }

    /// Sessions whose last use is before this have lapsed.
    public func idleCutoff(now: Date) -> Date { now.addingTimeInterval(-idleTimeout) }

    /// Sessions created before this have lapsed.
    public func ageCutoff(now: Date) -> Date { now.addingTimeInterval(-maxAge) }

    /// A new cookie value: 256 random bits.
    public static func newCookie() -> String { RandomIdentifier.make(prefix: "cs_", words: 4) }

    /// What the store keys a session by: the cookie itself is never stored.
    public static func tokenHash(cookie: String) -> String { LicenseKey.hash(cookie) }

    /// Ties a shared-token session to the admin token it signed in with: once ADMIN_TOKEN is
    /// rotated, the tag no longer matches. Computed over the cookie, which is never stored, so a
    /// copy of the database gives nothing to test guesses of the admin token against.
    public static func sharedTokenTag(adminTokenDigest: [UInt8], cookie: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("central-console-shared:\(cookie)".utf8), using: SymmetricKey(data: adminTokenDigest))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// The CSRF token of a session, derived from its cookie, so no instance needs to store it
    /// and a copy of the database (which holds only the cookie's hash) cannot forge it.
    public static func csrfToken(cookie: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("central-console-csrf".utf8), using: SymmetricKey(data: Data(cookie.utf8)))
        return "csrf_" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
