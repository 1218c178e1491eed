import Protocol

/// Central pushes a session's last quota a moment before it stops the session for running out,
/// so the edge's last figure may still show a fraction of a second left. While the last
/// session ended for that reason, such a fraction is what it is: nothing left (and the warning
/// says `exhausted`).
enum QuotaSettlement {
    static func settle(_ message: QuotaMessage, stopReason: ErrorCode?) -> QuotaMessage {
        var quota = message.quota
        if stopReason == .minutesExhausted, quota.secondsRemaining > 0, quota.secondsRemaining < 1 {
            quota.secondsRemaining = 0
            quota.secondsUsed = quota.secondsLimit
        } else if stopReason == .dailyLimitReached, let daily = quota.dailyRemainingSeconds, daily > 0, daily < 1 {
            quota.dailyRemainingSeconds = 0
        } else {
            return message
        }
        var settled = message
        settled.quota = quota
        settled.warning = QuotaWarning.level(for: quota)
        return settled
    }
}
