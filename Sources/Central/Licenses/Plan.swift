/// A plan is an editable template: creating a license copies the plan's values, and any
/// field given explicitly at creation overrides the plan's.
public struct Plan: Sendable, Equatable, Codable {
    public var name: String
    public var validityDays: Int
    public var minutes: Double
    /// nil: unlimited sessions.
    public var sessionLimit: Int?
    public var maxConcurrent: Int
    public var maxDevices: Int
    /// nil: no daily cap.
    public var dailyMinutes: Double?
    public var description: String
    /// The speech provider the plan's licenses stream to; nil: the default (the first configured
    /// provider that serves the session's pair).
    public var provider: String?
    /// The chat allowance the plan's licenses get; nil: no chat.
    public var chat: ChatQuota?

    public init(
        name: String, validityDays: Int, minutes: Double, sessionLimit: Int?, maxConcurrent: Int,
        maxDevices: Int, dailyMinutes: Double?, description: String, provider: String? = nil,
        chat: ChatQuota? = nil
    ) {
        self.name = name
        self.validityDays = validityDays
        self.minutes = minutes
        self.sessionLimit = sessionLimit
        self.maxConcurrent = maxConcurrent
        self.maxDevices = maxDevices
        self.dailyMinutes = dailyMinutes
        self.description = description
        self.provider = provider
        self.chat = chat
    }

    /// Trial plans issue `TRIAL-` keys; every other plan issues `LIC-` keys.
    public var keyKind: LicenseKey.Kind { name.hasPrefix("trial") ? .trial : .license }

    enum CodingKeys: String, CodingKey {
        case name
        case validityDays = "validity_days"
        case minutes
        case sessionLimit = "session_limit"
        case maxConcurrent = "max_concurrent"
        case maxDevices = "max_devices"
        case dailyMinutes = "daily_minutes"
        case description
        case provider
        case chat
    }

    /// The plans a new database starts with. Operators edit them with `central plan set` or
    /// `PUT /v1/admin/plans/{name}`.
    public static let defaults: [Plan] = [
        Plan(
            name: "trial-basic", validityDays: 7, minutes: 60, sessionLimit: 10, maxConcurrent: 1,
            maxDevices: 2, dailyMinutes: nil, description: "7 days, 60 minutes, 10 sessions, 1 stream"),
        Plan(
            name: "trial-standard", validityDays: 14, minutes: 180, sessionLimit: 30, maxConcurrent: 1,
            maxDevices: 3, dailyMinutes: nil, description: "14 days, 180 minutes"),
        Plan(
            name: "trial-enterprise", validityDays: 30, minutes: 600, sessionLimit: nil, maxConcurrent: 5,
            maxDevices: 10, dailyMinutes: nil,
            description: "30 days, custom: give minutes, sessions and streams at creation"),
    ]
}
