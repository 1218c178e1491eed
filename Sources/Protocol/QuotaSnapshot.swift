import Foundation

/// What a license may still spend, as central reports it to the edge (`GET /v1/license/quota`).
///
/// Times are seconds with millisecond precision; nothing is rounded to minutes.
public struct QuotaSnapshot: Codable, Sendable, Equatable {
    public var status: LicenseStatus
    public var startsAt: Date?
    public var expiresAt: Date?
    public var secondsUsed: Double
    public var secondsLimit: Double
    public var secondsRemaining: Double
    public var sessionsUsed: Int
    /// nil when the license has no session limit.
    public var sessionsLimit: Int?
    public var sessionsRemaining: Int?
    /// nil when the license has no daily cap.
    public var dailyLimitSeconds: Double?
    public var dailyRemainingSeconds: Double?
    public var concurrentInUse: Int
    public var concurrentLimit: Int

    public init(
        status: LicenseStatus, startsAt: Date?, expiresAt: Date?,
        secondsUsed: Double, secondsLimit: Double, secondsRemaining: Double,
        sessionsUsed: Int, sessionsLimit: Int?, sessionsRemaining: Int?,
        dailyLimitSeconds: Double?, dailyRemainingSeconds: Double?,
        concurrentInUse: Int, concurrentLimit: Int
    ) {
        self.status = status
        self.startsAt = startsAt
        self.expiresAt = expiresAt
        self.secondsUsed = secondsUsed
        self.secondsLimit = secondsLimit
        self.secondsRemaining = secondsRemaining
        self.sessionsUsed = sessionsUsed
        self.sessionsLimit = sessionsLimit
        self.sessionsRemaining = sessionsRemaining
        self.dailyLimitSeconds = dailyLimitSeconds
        self.dailyRemainingSeconds = dailyRemainingSeconds
        self.concurrentInUse = concurrentInUse
        self.concurrentLimit = concurrentLimit
    }

    enum CodingKeys: String, CodingKey {
        case status
        case startsAt = "starts_at"
        case expiresAt = "expires_at"
        case secondsUsed = "seconds_used"
        case secondsLimit = "seconds_limit"
        case secondsRemaining = "seconds_remaining"
        case sessionsUsed = "sessions_used"
        case sessionsLimit = "sessions_limit"
        case sessionsRemaining = "sessions_remaining"
        case dailyLimitSeconds = "daily_limit_seconds"
        case dailyRemainingSeconds = "daily_remaining_seconds"
        case concurrentInUse = "concurrent_in_use"
        case concurrentLimit = "concurrent_limit"
    }
}
