import Foundation
import Protocol

/// What the store read about a license inside the admission transaction.
struct AdmissionFacts: Sendable {
    var license: License
    var clientIP: String
    var deviceIsBound: Bool
    var boundDeviceCount: Int
    var usedTodayMs: Int64
    var activeLeases: Int
}

/// The admission rules, as one pure function so every store applies them identically.
/// The order of the checks is part of the contract: the first failing check is the answer.
enum AdmissionPolicy {
    static func refusal(for facts: AdmissionFacts, now: Date) -> ErrorCode? {
        let license = facts.license
        switch license.status {
        case .revoked: return .licenseRevoked
        case .suspended: return .licenseSuspended
        case .active: break
        }
        if now < license.startsAt { return .licenseNotStarted }
        if let expiresAt = license.expiresAt, now >= expiresAt { return .licenseExpired }
        if !license.ipAllowlist.allows(facts.clientIP) { return .ipNotAllowed }
        if !facts.deviceIsBound && facts.boundDeviceCount >= license.maxDevices { return .deviceNotAllowed }
        if license.usedMs >= license.limitMs { return .minutesExhausted }
        if let cap = license.dailyCapMs, facts.usedTodayMs >= cap { return .dailyLimitReached }
        if let sessionLimit = license.sessionLimit, license.sessionsUsed >= sessionLimit { return .sessionsExhausted }
        if facts.activeLeases >= license.maxConcurrent { return .concurrencyLimit }
        return nil
    }
}
