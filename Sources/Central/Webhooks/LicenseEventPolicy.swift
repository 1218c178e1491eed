import Foundation

/// Which state events a license is in now: the rule the event scanner applies, without a
/// store. Each comes with the discriminator that makes it one event: a threshold per limit
/// (a top-up that raises the limit re-arms it), the daily cap per day, the expiry per date.
public struct LicenseEventPolicy: Sendable {
    public var expiringSoonDays: Int

    public init(expiringSoonDays: Int) {
        self.expiringSoonDays = expiringSoonDays
    }

    public struct Occurrence: Equatable, Sendable {
        public var type: WebhookEventType
        public var discriminator: String
    }

    /// `usedTodayMs` is nil when the license has no daily cap (or was not used today).
    public func occurrences(of license: License, usedTodayMs: Int64?, now: Date) -> [Occurrence] {
        var found: [Occurrence] = []
        if let expiresAt = license.expiresAt, license.status != .revoked {
            let left = expiresAt.timeIntervalSince(now)
            let at = String(Milliseconds.from(expiresAt))
            // Only a fresh expiry: an endpoint added today is not told about last year's.
            if left <= 0, left > -86_400 {
                found.append(Occurrence(type: .expired, discriminator: at))
            } else if left > 0, left <= TimeInterval(expiringSoonDays) * 86_400 {
                found.append(Occurrence(type: .expiringSoon, discriminator: at))
            }
        }
        guard license.status == .active, license.limitMs > 0 else { return found }
        let limit = String(license.limitMs)
        let used = license.usedMs
        // The highest threshold crossed only: one message, not three at once, when usage jumps.
        if used >= license.limitMs {
            found.append(Occurrence(type: .usageExhausted, discriminator: limit))
        } else if used * 100 >= license.limitMs * 95 {
            found.append(Occurrence(type: .usage95, discriminator: limit))
        } else if used * 100 >= license.limitMs * 80 {
            found.append(Occurrence(type: .usage80, discriminator: limit))
        }
        if let cap = license.dailyCapMs, let today = usedTodayMs, cap > 0, today >= cap {
            found.append(Occurrence(type: .dailyCapReached, discriminator: UTCDay(containing: now).description))
        }
        return found
    }
}
