import Foundation
import Synchronization

/// Counts failed authentications per client IP over a sliding minute. Once an address reaches
/// the limit, every authenticated request from it is refused until the oldest failure ages out.
final class AuthFailureLimiter: Sendable {
    private let limit: Int
    private let window: TimeInterval
    private let failures = Mutex<[String: [Date]]>([:])

    init(limit: Int, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until `ip` may try again, or nil when it may try now.
    func retryAfter(ip: String, now: Date) -> Int? {
        failures.withLock { table in
            let recent = (table[ip] ?? []).filter { now.timeIntervalSince($0) < window }
            table[ip] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    func recordFailure(ip: String, now: Date) {
        failures.withLock { table in
            var recent = (table[ip] ?? []).filter { now.timeIntervalSince($0) < window }
            recent.append(now)
            table[ip] = recent
            // Keep the table bounded under a spray of addresses.
            if table.count > 100_000 {
                table = table.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
            }
        }
    }
}
