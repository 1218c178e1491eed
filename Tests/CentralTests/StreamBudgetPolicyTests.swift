@testable import Central
import Foundation
import Protocol
import Testing

/// The checkpoint's billing and reservation rule, without a database.
struct StreamBudgetPolicyTests {
    func license(limitMs: Int64, usedMs: Int64 = 0, dailyCapMs: Int64? = nil) -> License {
        TestLicense.value(limitMs: limitMs, usedMs: usedMs, dailyCapMs: dailyCapMs)
    }

    @Test func aLoneSessionReservesItsChunk() {
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 60_000), usedTodayMs: 0, unbilledMs: 0, heldMs: 0, othersReservedMs: 0, wantedMs: 2_000)
        #expect(budget == StreamBudget(billMs: 0, reservedMs: 2_000, limitedBy: .minutesExhausted))
    }

    @Test func whatOthersHoldIsNotAvailable() {
        // 5 s left, 4 s held by other sessions: at most half of the free second.
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 10_000, usedMs: 5_000), usedTodayMs: 0, unbilledMs: 0, heldMs: 0,
            othersReservedMs: 4_000, wantedMs: 2_000)
        #expect(budget.reservedMs == 500)
    }

    @Test func tinyRemaindersGoWholeAndNothingLeftGrantsNothing() {
        let tiny = StreamBudgetPolicy.decide(
            license: license(limitMs: 10_000, usedMs: 9_940), usedTodayMs: 0, unbilledMs: 0, heldMs: 0,
            othersReservedMs: 0, wantedMs: 2_000)
        #expect(tiny.reservedMs == 60)
        let none = StreamBudgetPolicy.decide(
            license: license(limitMs: 10_000, usedMs: 9_000), usedTodayMs: 0, unbilledMs: 0, heldMs: 0,
            othersReservedMs: 1_000, wantedMs: 2_000)
        #expect(none.reservedMs == 0 && none.limitedBy == .minutesExhausted)
    }

    @Test func audioInsideTheReservationIsBilledEvenWhenOthersHoldTheRest() {
        // The session held 2 s and used 1.5 s of it; others now hold everything else.
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 10_000, usedMs: 6_000), usedTodayMs: 0, unbilledMs: 1_500, heldMs: 2_000,
            othersReservedMs: 4_000, wantedMs: 2_000)
        #expect(budget.billMs == 1_500)
        #expect(budget.reservedMs == 0)
    }

    @Test func theUnspentPartOfTheHeldReservationStaysHeld() {
        // 4 s left, this session holds 2 s and others the other 2 s; it used 1.2 s of its own.
        // Half of what is free would be 0.4 s, but frames may already be on their way inside
        // the 0.8 s it still holds, so that much stays reserved for it.
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 4_000), usedTodayMs: 0, unbilledMs: 1_200, heldMs: 2_000,
            othersReservedMs: 2_000, wantedMs: 2_000)
        #expect(budget.billMs == 1_200 && budget.reservedMs == 800)
        // Closing returns it all the same.
        let closing = StreamBudgetPolicy.decide(
            license: license(limitMs: 4_000), usedTodayMs: 0, unbilledMs: 1_200, heldMs: 2_000,
            othersReservedMs: 2_000, wantedMs: 0)
        #expect(closing.reservedMs == 0)
    }

    @Test func theLedgerNeverPassesTheLimit() {
        // An operator lowered the limit below what the session had reserved.
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 5_000, usedMs: 4_500), usedTodayMs: 0, unbilledMs: 1_500, heldMs: 2_000,
            othersReservedMs: 0, wantedMs: 2_000)
        #expect(budget.billMs == 500)
        #expect(budget.reservedMs == 0)
    }

    @Test func theDailyCapBindsWhenItIsTighter() {
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 600_000, dailyCapMs: 10_000), usedTodayMs: 9_000, unbilledMs: 0, heldMs: 0,
            othersReservedMs: 0, wantedMs: 2_000)
        #expect(budget == StreamBudget(billMs: 0, reservedMs: 500, limitedBy: .dailyLimitReached))
    }

    @Test func closingReturnsTheReservation() {
        let budget = StreamBudgetPolicy.decide(
            license: license(limitMs: 60_000, usedMs: 1_000), usedTodayMs: 0, unbilledMs: 700, heldMs: 2_000,
            othersReservedMs: 0, wantedMs: 0)
        #expect(budget.billMs == 700 && budget.reservedMs == 0)
    }

    /// Whatever the interleaving, sessions that forward only inside their reservations never
    /// spend more than the license has.
    @Test func randomInterleavingsNeverOverspend() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let limit = Int64.random(in: 0...20_000, using: &generator)
            var used: Int64 = 0
            var held = [Int64](repeating: 0, count: 4)
            var unbilled = [Int64](repeating: 0, count: 4)
            for _ in 0..<200 {
                let session = Int.random(in: 0..<4, using: &generator)
                // The session forwards some audio inside what it holds...
                let room = held[session] - unbilled[session]
                if room > 0 { unbilled[session] += Int64.random(in: 0...room, using: &generator) }
                // ...then checkpoints.
                let others = held.enumerated().filter { $0.offset != session }.reduce(0) { $0 + $1.element }
                let budget = StreamBudgetPolicy.decide(
                    license: license(limitMs: limit, usedMs: used), usedTodayMs: used, unbilledMs: unbilled[session],
                    heldMs: held[session], othersReservedMs: others, wantedMs: Int64.random(in: 0...3_000, using: &generator))
                #expect(budget.billMs == unbilled[session], "forwarded audio went unbilled")
                used += budget.billMs
                unbilled[session] = 0
                held[session] = budget.reservedMs
                #expect(used + held.reduce(0, +) <= limit)
            }
        }
    }
}
