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
    /// Why the license cannot stream now (an admission code such as `minutes_exhausted` or
    /// `license_expired`), so `status: active` with nothing left is not mistaken for usable.
    /// Nil when it can; absent from older centrals.
    public var blockedBy: ErrorCode?
    /// The license's chat allowance (the OpenAI-compatible chat proxy); nil when it has no chat
    /// quotas, and absent from older centrals.
    public var chat: ChatQuotaSnapshot?

    /// Whether a new session could stream now, concurrency and device limits aside.
    public var canStream: Bool { blockedBy == nil }

    public init(
        status: LicenseStatus, startsAt: Date?, expiresAt: Date?,
        secondsUsed: Double, secondsLimit: Double, secondsRemaining: Double,
        sessionsUsed: Int, sessionsLimit: Int?, sessionsRemaining: Int?,
        dailyLimitSeconds: Double?, dailyRemainingSeconds: Double?,
        concurrentInUse: Int, concurrentLimit: Int, blockedBy: ErrorCode? = nil, chat: ChatQuotaSnapshot? = nil
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
        self.blockedBy = blockedBy
        self.chat = chat
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
        case blockedBy = "blocked_by"
        case canStream = "can_stream"
        case chat
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decode(LicenseStatus.self, forKey: .status)
        startsAt = try container.decodeIfPresent(Date.self, forKey: .startsAt)
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        secondsUsed = try container.decode(Double.self, forKey: .secondsUsed)
        secondsLimit = try container.decode(Double.self, forKey: .secondsLimit)
        secondsRemaining = try container.decode(Double.self, forKey: .secondsRemaining)
        sessionsUsed = try container.decode(Int.self, forKey: .sessionsUsed)
        sessionsLimit = try container.decodeIfPresent(Int.self, forKey: .sessionsLimit)
        sessionsRemaining = try container.decodeIfPresent(Int.self, forKey: .sessionsRemaining)
        dailyLimitSeconds = try container.decodeIfPresent(Double.self, forKey: .dailyLimitSeconds)
        dailyRemainingSeconds = try container.decodeIfPresent(Double.self, forKey: .dailyRemainingSeconds)
        concurrentInUse = try container.decode(Int.self, forKey: .concurrentInUse)
        concurrentLimit = try container.decode(Int.self, forKey: .concurrentLimit)
        blockedBy = try container.decodeIfPresent(ErrorCode.self, forKey: .blockedBy)
        chat = try container.decodeIfPresent(ChatQuotaSnapshot.self, forKey: .chat)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(startsAt, forKey: .startsAt)
        try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try container.encode(secondsUsed, forKey: .secondsUsed)
        try container.encode(secondsLimit, forKey: .secondsLimit)
        try container.encode(secondsRemaining, forKey: .secondsRemaining)
        try container.encode(sessionsUsed, forKey: .sessionsUsed)
        try container.encodeIfPresent(sessionsLimit, forKey: .sessionsLimit)
        try container.encodeIfPresent(sessionsRemaining, forKey: .sessionsRemaining)
        try container.encodeIfPresent(dailyLimitSeconds, forKey: .dailyLimitSeconds)
        try container.encodeIfPresent(dailyRemainingSeconds, forKey: .dailyRemainingSeconds)
        try container.encode(concurrentInUse, forKey: .concurrentInUse)
        try container.encode(concurrentLimit, forKey: .concurrentLimit)
        try container.encode(canStream, forKey: .canStream)
        try container.encodeIfPresent(blockedBy, forKey: .blockedBy)
        try container.encodeIfPresent(chat, forKey: .chat)
    }
}
