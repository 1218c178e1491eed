/// How close a license is to running out, pushed with every quota message.
/// Levels only rise as usage grows: `none` < `used_80_percent` < `used_95_percent` <
/// `last_60_seconds` < `last_10_seconds` < `exhausted`.
public enum QuotaWarning: String, Codable, Sendable, Comparable, CaseIterable {
    case none
    case used80Percent = "used_80_percent"
    case used95Percent = "used_95_percent"
    case last60Seconds = "last_60_seconds"
    case last10Seconds = "last_10_seconds"
    case exhausted

    /// The level for a snapshot; the binding limit is whichever of the total and the daily
    /// allowance runs out first.
    public static func level(for quota: QuotaSnapshot) -> QuotaWarning {
        var remaining = quota.secondsRemaining
        var fractionUsed = quota.secondsLimit > 0 ? quota.secondsUsed / quota.secondsLimit : 1
        if let dailyLimit = quota.dailyLimitSeconds, let dailyRemaining = quota.dailyRemainingSeconds,
           dailyRemaining < remaining
        {
            remaining = dailyRemaining
            fractionUsed = dailyLimit > 0 ? (dailyLimit - dailyRemaining) / dailyLimit : 1
        }
        if remaining <= 0 { return .exhausted }
        if remaining <= 10 { return .last10Seconds }
        if remaining <= 60 { return .last60Seconds }
        if fractionUsed >= 0.95 { return .used95Percent }
        if fractionUsed >= 0.80 { return .used80Percent }
        return .none
    }

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: QuotaWarning, rhs: QuotaWarning) -> Bool { lhs.rank < rhs.rank }
}
