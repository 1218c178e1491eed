import Foundation

/// When a failed delivery is tried again: the first retry after `firstRetry`, each later wait
/// four times the one before up to `maxWait`, and none once the event is older than `giveUpAfter`
/// (a day): the delivery is then `failed`, and an admin can still redeliver it by hand.
public struct WebhookRetryPolicy: Sendable, Equatable {
    public var firstRetry: TimeInterval
    public var maxWait: TimeInterval
    public var giveUpAfter: TimeInterval

    public init(firstRetry: TimeInterval = 10, maxWait: TimeInterval = 6 * 3600, giveUpAfter: TimeInterval = 86_400) {
        self.firstRetry = firstRetry
        self.maxWait = maxWait
        self.giveUpAfter = giveUpAfter
    }

    /// The next try after `attempts` failed ones, or nil to give up.
    public func nextAttempt(afterFailedAttempts attempts: Int, createdAt: Date, now: Date) -> Date? {
        let exponent = Double(max(0, attempts - 1))
        let wait = min(maxWait, firstRetry * pow(4, min(exponent, 20)))
        let next = now.addingTimeInterval(wait)
        return next.timeIntervalSince(createdAt) > giveUpAfter ? nil : next
    }
}
