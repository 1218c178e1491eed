@testable import EdgeAgent
import Protocol
import Testing

@Suite(.bounded) struct QuotaSettlementTests {
    static func message(remaining: Double, dailyRemaining: Double? = nil) -> QuotaMessage {
        let quota = QuotaSnapshot(
            status: .active, startsAt: nil, expiresAt: nil, secondsUsed: 15 - remaining, secondsLimit: 15, secondsRemaining: remaining,
            sessionsUsed: 1, sessionsLimit: nil, sessionsRemaining: nil,
            dailyLimitSeconds: dailyRemaining == nil ? nil : 60, dailyRemainingSeconds: dailyRemaining,
            concurrentInUse: 1, concurrentLimit: 1)
        return QuotaMessage(quota: quota, warning: QuotaWarning.level(for: quota), sessionBilledMs: 14_000)
    }

    @Test func aLastFractionAfterRunningOutIsNothingLeft() {
        let settled = QuotaSettlement.settle(Self.message(remaining: 0.4), stopReason: .minutesExhausted)
        #expect(settled.quota.secondsRemaining == 0 && settled.quota.secondsUsed == 15)
        #expect(settled.warning == .exhausted)
        #expect(settled.sessionBilledMs == 14_000)
        let daily = QuotaSettlement.settle(Self.message(remaining: 10, dailyRemaining: 0.3), stopReason: .dailyLimitReached)
        #expect(daily.quota.dailyRemainingSeconds == 0 && daily.quota.secondsRemaining == 10)
        #expect(daily.warning == .exhausted)
    }

    @Test func anythingElseIsLeftAsCentralSaidIt() {
        for (message, reason) in [
            (Self.message(remaining: 0.4), nil), (Self.message(remaining: 0.4), .clientStop),
            (Self.message(remaining: 1.5), .minutesExhausted), (Self.message(remaining: 0), .minutesExhausted),
            (Self.message(remaining: 0.4), .dailyLimitReached), (Self.message(remaining: 10, dailyRemaining: 2), .dailyLimitReached),
        ] as [(QuotaMessage, ErrorCode?)] {
            #expect(QuotaSettlement.settle(message, stopReason: reason) == message, "\(message.quota.secondsRemaining) \(String(describing: reason))")
        }
    }
}
