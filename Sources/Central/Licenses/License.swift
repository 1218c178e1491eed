import Foundation
import Protocol

/// A license as the store keeps it. Usage and limits are in milliseconds, never whole minutes.
public struct License: Sendable, Equatable {
    public var id: String
    /// The visible part of the key, e.g. `TRIAL-7KQ2M4XA`; the key itself is never stored.
    public var keyPrefix: String
    public var customerName: String
    public var customerEmail: String?
    public var plan: String
    public var status: LicenseStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var startsAt: Date
    /// nil while an expiry counted from first use has not started yet.
    public var expiresAt: Date?
    public var validityDays: Int
    public var expiryFromFirstUse: Bool
    public var limitMs: Int64
    public var usedMs: Int64
    public var sessionLimit: Int?
    public var sessionsUsed: Int
    public var dailyCapMs: Int64?
    public var maxConcurrent: Int
    public var maxDevices: Int
    public var ipAllowlist: IPAllowlist
    public var notes: String
    public var lastUsedAt: Date?
    /// The speech provider this license streams to (copied from its plan at creation); nil: the
    /// default, the first configured provider that serves the session's pair.
    public var provider: String?
    /// The license's chat allowance (copied from its plan at creation); nil: no chat.
    public var chat: ChatQuota?

    public var remainingMs: Int64 { max(0, limitMs - usedMs) }

    public init(
        id: String, keyPrefix: String, customerName: String, customerEmail: String?, plan: String,
        status: LicenseStatus, createdAt: Date, updatedAt: Date, startsAt: Date, expiresAt: Date?,
        validityDays: Int, expiryFromFirstUse: Bool, limitMs: Int64, usedMs: Int64, sessionLimit: Int?,
        sessionsUsed: Int, dailyCapMs: Int64?, maxConcurrent: Int, maxDevices: Int,
        ipAllowlist: IPAllowlist, notes: String, lastUsedAt: Date?, provider: String? = nil,
        chat: ChatQuota? = nil
    ) {
        self.id = id
        self.keyPrefix = keyPrefix
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.plan = plan
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startsAt = startsAt
        self.expiresAt = expiresAt
        self.validityDays = validityDays
        self.expiryFromFirstUse = expiryFromFirstUse
        self.limitMs = limitMs
        self.usedMs = usedMs
        self.sessionLimit = sessionLimit
        self.sessionsUsed = sessionsUsed
        self.dailyCapMs = dailyCapMs
        self.maxConcurrent = maxConcurrent
        self.maxDevices = maxDevices
        self.ipAllowlist = ipAllowlist
        self.notes = notes
        self.lastUsedAt = lastUsedAt
        self.provider = provider
        self.chat = chat
    }

    /// A new license id: `lic_` and 16 random hex digits.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "lic_" + String(format: "%016llx", generator.next() as UInt64)
    }

    /// The quota as the edge sees it, given the live counts the store computed alongside.
    func quota(usedTodayMs: Int64, activeLeases: Int, now: Date) -> QuotaSnapshot {
        let dailyRemaining = dailyCapMs.map { max(0, $0 - usedTodayMs) }
        return QuotaSnapshot(
            status: status, startsAt: startsAt, expiresAt: expiresAt,
            secondsUsed: Milliseconds.seconds(usedMs),
            secondsLimit: Milliseconds.seconds(limitMs),
            secondsRemaining: Milliseconds.seconds(remainingMs),
            sessionsUsed: sessionsUsed,
            sessionsLimit: sessionLimit,
            sessionsRemaining: sessionLimit.map { max(0, $0 - sessionsUsed) },
            dailyLimitSeconds: dailyCapMs.map(Milliseconds.seconds),
            dailyRemainingSeconds: dailyRemaining.map(Milliseconds.seconds),
            concurrentInUse: activeLeases,
            concurrentLimit: maxConcurrent,
            blockedBy: AdmissionPolicy.streamingBlocker(self, usedTodayMs: usedTodayMs, now: now))
    }
}

/// A device fingerprint bound to a license by its first admission.
public struct BoundDevice: Sendable, Equatable, Codable {
    public var fingerprint: String
    public var boundAt: Date
    public var lastSeenAt: Date

    enum CodingKeys: String, CodingKey {
        case fingerprint
        case boundAt = "bound_at"
        case lastSeenAt = "last_seen_at"
    }
}
