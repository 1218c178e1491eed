import Foundation

/// A license's chat allowance as central reports it beside the speech quota (`chat` in
/// `QuotaSnapshot`), present only when the license has chat quotas. Days are counted in the
/// plan's time zone; tokens are input plus output tokens as the upstream reported them.
public struct ChatQuotaSnapshot: Codable, Sendable, Equatable {
    /// The current quota day, `YYYY-MM-DD` in `timeZone`.
    public var day: String
    /// An IANA time zone name, e.g. `UTC` or `Asia/Shanghai`.
    public var timeZone: String
    /// When the next quota day starts.
    public var resetsAt: Date
    /// The model names the license may ask for.
    public var models: [String]
    public var requestsToday: Int
    /// nil: no daily request limit.
    public var requestsPerDay: Int?
    public var tokensToday: Int64
    /// nil: no daily token limit.
    public var tokensPerDay: Int64?
    /// Tokens used over the license's life.
    public var tokensUsed: Int64
    /// nil: no lifetime token limit.
    public var tokensTotal: Int64?
    /// nil: no per-minute request limit.
    public var requestsPerMinute: Int?

    public init(
        day: String, timeZone: String, resetsAt: Date, models: [String], requestsToday: Int, requestsPerDay: Int?,
        tokensToday: Int64, tokensPerDay: Int64?, tokensUsed: Int64, tokensTotal: Int64?, requestsPerMinute: Int?
    ) {
        self.day = day
        self.timeZone = timeZone
        self.resetsAt = resetsAt
        self.models = models
        self.requestsToday = requestsToday
        self.requestsPerDay = requestsPerDay
        self.tokensToday = tokensToday
        self.tokensPerDay = tokensPerDay
        self.tokensUsed = tokensUsed
        self.tokensTotal = tokensTotal
        self.requestsPerMinute = requestsPerMinute
    }

    enum CodingKeys: String, CodingKey {
        case day
        case timeZone = "time_zone"
        case resetsAt = "resets_at"
        case models
        case requestsToday = "requests_today"
        case requestsPerDay = "requests_per_day"
        case tokensToday = "tokens_today"
        case tokensPerDay = "tokens_per_day"
        case tokensUsed = "tokens_used"
        case tokensTotal = "tokens_total"
        case requestsPerMinute = "requests_per_minute"
    }
}
