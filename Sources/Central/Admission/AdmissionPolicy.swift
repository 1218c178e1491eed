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
        if let refusal = stateRefusal(license, now: now) { return refusal }
        if !license.ipAllowlist.allows(facts.clientIP) { return .ipNotAllowed }
        if !facts.deviceIsBound && facts.boundDeviceCount >= license.maxDevices { return .deviceNotAllowed }
        if let refusal = balanceRefusal(license, usedTodayMs: facts.usedTodayMs) { return refusal }
        if facts.activeLeases >= license.maxConcurrent { return .concurrencyLimit }
        return nil
    }

    /// The license's expiry once this admission is its first use: a license whose validity runs
    /// from first use gets its end date now; any other keeps the one it has.
    static func expiry(admitting license: License, now: Date) -> Date? {
        guard license.expiryFromFirstUse, license.expiresAt == nil else { return license.expiresAt }
        return now.addingTimeInterval(TimeInterval(license.validityDays) * 86_400)
    }

    /// Why the license as a whole cannot stream now (whoever asks, from wherever): what
    /// `GET /v1/license/quota` reports as `blocked_by`. Nil when it can.
    static func streamingBlocker(_ license: License, usedTodayMs: Int64, now: Date) -> ErrorCode? {
        stateRefusal(license, now: now) ?? balanceRefusal(license, usedTodayMs: usedTodayMs)
    }

    /// The license's own state: status and validity window.
    static func stateRefusal(_ license: License, now: Date) -> ErrorCode? {
        switch license.status {
        case .revoked: return .licenseRevoked
        case .suspended: return .licenseSuspended
        case .active: break
        }
        if now < license.startsAt { return .licenseNotStarted }
        if let expiresAt = license.expiresAt, now >= expiresAt { return .licenseExpired }
        return nil
    }

    /// What is left to spend.
    static func balanceRefusal(_ license: License, usedTodayMs: Int64) -> ErrorCode? {
        if license.usedMs >= license.limitMs { return .minutesExhausted }
        if let cap = license.dailyCapMs, usedTodayMs >= cap { return .dailyLimitReached }
        if let sessionLimit = license.sessionLimit, license.sessionsUsed >= sessionLimit { return .sessionsExhausted }
        return nil
    }
}
