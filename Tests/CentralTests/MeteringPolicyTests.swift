@testable import Central
import Foundation
import Protocol
import Testing

/// Every rule of `MeteringPolicy`, from values alone: no database, fixed dates and a manual clock.
struct MeteringPolicyTests {
    let now = TestLicense.epoch.addingTimeInterval(3_600)

    func facts(
        _ license: License = TestLicense.value(), deleted: Bool = false, live: Bool = true, leaseHeld: Bool = true,
        billedMs: Int64 = 0, heldMs: Int64 = 0, firstAudio: Bool = true, usedTodayMs: Int64? = nil, othersMs: Int64 = 0
    ) -> CheckpointFacts {
        CheckpointFacts(
            license: license, licenseDeleted: deleted, sessionLive: live, leaseHeld: leaseHeld, billedMs: billedMs,
            heldReservationMs: heldMs, firstAudioRecorded: firstAudio, usedTodayMs: usedTodayMs ?? license.usedMs,
            othersReservedMs: othersMs)
    }

    func checkpoint(accepted: Int64, reserve: Int64 = 2_000, _ facts: CheckpointFacts) -> CheckpointDecision {
        MeteringPolicy.checkpoint(
            CheckpointRequest(sessionID: "s1", acceptedMs: accepted, lastSequence: accepted / 20 - 1, reserveMs: reserve, leaseTTL: 30),
            facts: facts, now: now)
    }

    // MARK: checkpoint

    @Test func aLoneSessionIsBilledWhatItForwardedAndReservesItsShare() {
        let decision = checkpoint(accepted: 1_000, facts(billedMs: 400, heldMs: 2_000))
        #expect(decision.debit?.amountMs == 600 && decision.billedMs == 1_000)
        #expect(decision.reservedMs == 2_000 && decision.limitedBy == .minutesExhausted && decision.mayStream)
        #expect(decision.license.usedMs == 600 && decision.license.lastUsedAt == now && decision.usedTodayMs == 600)
    }

    @Test func audioInsideTheHeldReservationIsBilledWhateverOthersHold() {
        // 4 s left and all of it held by other sessions; this one still holds 2 s of its own.
        let decision = checkpoint(accepted: 1_500, facts(TestLicense.value(limitMs: 10_000, usedMs: 6_000), heldMs: 2_000, othersMs: 4_000))
        #expect(decision.debit?.amountMs == 1_500)
        #expect(decision.reservedMs == 0 && decision.limitedBy == .minutesExhausted)
    }

    @Test func beyondItsReservationASessionIsBilledOnlyAsFarAsTheSharedBalance() {
        // 5 s left, 3 s of it held by others: 2 s free, the session held 0.5 s and forwarded 3 s.
        let decision = checkpoint(accepted: 3_000, facts(TestLicense.value(limitMs: 10_000, usedMs: 5_000), heldMs: 500, othersMs: 3_000))
        #expect(decision.debit?.requestedMs == 3_000 && decision.debit?.amountMs == 2_000)
        #expect(decision.billedMs == 2_000 && decision.reservedMs == 0)
    }

    @Test func theBillNeverPassesTheLimitEvenInsideAReservation() {
        // An operator lowered the limit below what the session had reserved.
        let decision = checkpoint(accepted: 1_500, facts(TestLicense.value(limitMs: 5_000, usedMs: 4_500), heldMs: 2_000))
        #expect(decision.debit?.amountMs == 500 && decision.license.usedMs == 5_000)
        #expect(decision.debit?.balanceBeforeMs == 500 && decision.debit?.balanceAfterMs == 0)
        #expect(decision.reservedMs == 0)
        let spent = checkpoint(accepted: 1_500, facts(TestLicense.value(limitMs: 5_000, usedMs: 5_000), heldMs: 2_000))
        #expect(spent.debit == nil && spent.billedMs == 0)
    }

    @Test func theDailyCapBindsTheBillAndTheReservation() {
        let license = TestLicense.value(limitMs: 600_000, usedMs: 50_000, dailyCapMs: 10_000)
        let capped = checkpoint(accepted: 3_000, facts(license, usedTodayMs: 9_000))
        #expect(capped.debit?.amountMs == 1_000 && capped.usedTodayMs == 10_000)
        #expect(capped.reservedMs == 0 && capped.limitedBy == .dailyLimitReached)
        let room = checkpoint(accepted: 0, facts(license, usedTodayMs: 6_000))
        #expect(room.debit == nil && room.reservedMs == 2_000 && room.limitedBy == .dailyLimitReached)
        // Without a cap, only the total binds.
        let uncapped = checkpoint(accepted: 3_000, facts(TestLicense.value(limitMs: 600_000, usedMs: 50_000), usedTodayMs: 9_000))
        #expect(uncapped.debit?.amountMs == 3_000 && uncapped.limitedBy == .minutesExhausted)
    }

    @Test func aSessionCountsAtItsFirstAudioAndOnlyThen() {
        let license = TestLicense.value(sessionLimit: 5, sessionsUsed: 2)
        let silent = checkpoint(accepted: 0, facts(license, firstAudio: false))
        #expect(!silent.countsSessionStart && silent.license.sessionsUsed == 2)
        let first = checkpoint(accepted: 20, facts(license, firstAudio: false))
        #expect(first.countsSessionStart && first.license.sessionsUsed == 3 && first.license.lastUsedAt == now)
        let later = checkpoint(accepted: 40, facts(license, billedMs: 20, firstAudio: true))
        #expect(!later.countsSessionStart && later.license.sessionsUsed == 2)
        // Counted even when nothing is left to bill: the session did start.
        let spent = checkpoint(accepted: 20, facts(TestLicense.value(limitMs: 100, usedMs: 100), firstAudio: false))
        #expect(spent.countsSessionStart && spent.debit == nil)
    }

    enum Ended: String, CaseIterable, Sendable {
        case deleted, suspended, revoked, expired, notStarted, leaseLost, sessionClosed
    }

    /// Whatever ends the stream, the checkpoint reserves nothing more, yet bills what was forwarded.
    @Test(arguments: Ended.allCases)
    func whateverEndsTheStreamReservesNothingButStillBills(_ ended: Ended) {
        var license = TestLicense.value()
        var deleted = false, live = true, leaseHeld = true
        switch ended {
        case .deleted: deleted = true
        case .suspended: license.status = .suspended
        case .revoked: license.status = .revoked
        case .expired: license.expiresAt = now
        case .notStarted: license.startsAt = now.addingTimeInterval(1)
        case .leaseLost: leaseHeld = false
        case .sessionClosed: live = false
        }
        let decision = checkpoint(accepted: 800, facts(license, deleted: deleted, live: live, leaseHeld: leaseHeld, heldMs: 1_000))
        #expect(!decision.mayStream && decision.reservedMs == 0)
        #expect(decision.debit?.amountMs == 800 && decision.billedMs == 800)
    }

    /// The debit's idempotency key names the session and the watermark it reaches (not the one
    /// asked for), so a replay names the same key and nothing repeats.
    @Test func theIdempotencyKeyNamesTheWatermarkReached() {
        let decision = checkpoint(accepted: 1_600, facts(billedMs: 1_000))
        #expect(decision.debit?.idempotencyKey == "stream:s1:upto:1600")
        let clipped = checkpoint(accepted: 5_000, facts(TestLicense.value(limitMs: 2_000, usedMs: 1_300), billedMs: 1_000))
        #expect(clipped.debit?.amountMs == 700 && clipped.debit?.idempotencyKey == "stream:s1:upto:1700")
        #expect(clipped.billedMs == 1_700)
        // A replay, or a watermark going back, decides no debit.
        for accepted: Int64 in [1_000, 400, -20] {
            let replay = checkpoint(accepted: accepted, facts(billedMs: 1_000))
            #expect(replay.debit == nil && replay.billedMs == 1_000 && replay.license.usedMs == 0)
        }
    }

    // MARK: stop and open

    func result(
        _ license: License? = TestLicense.value(), quota: Bool = true, leaseHeld: Bool = true, reservedMs: Int64 = 2_000,
        limitedBy: ErrorCode = .minutesExhausted
    ) -> CheckpointResult {
        CheckpointResult(
            billedMs: 0, appliedMs: 0, reservedMs: reservedMs, limitedBy: limitedBy, countedSession: false,
            license: license, quota: quota ? license?.quota(usedTodayMs: 0, activeLeases: 1, now: now) : nil,
            leaseHeld: leaseHeld)
    }

    /// A result failing every check stops for the first; relaxing each in turn walks the order:
    /// the license's existence, its state, the lease, the address, then the balance.
    @Test func theStopReasonComesInOrder() throws {
        var license = TestLicense.value(status: .revoked, ipAllowlist: try IPAllowlist.parse(["10.0.0.0/8"]).get())
        let ip = "198.51.100.7"
        #expect(MeteringPolicy.stop(after: result(nil, leaseHeld: false, reservedMs: 0), clientIP: ip, now: now)?.0 == .licenseNotFound)
        #expect(MeteringPolicy.stop(after: result(license, quota: false, leaseHeld: false, reservedMs: 0), clientIP: ip, now: now)?.0 == .licenseNotFound)
        #expect(MeteringPolicy.stop(after: result(license, leaseHeld: false, reservedMs: 0), clientIP: ip, now: now)?.0 == .licenseRevoked)
        license.status = .active
        #expect(MeteringPolicy.stop(after: result(license, leaseHeld: false, reservedMs: 0), clientIP: ip, now: now)?.0 == .leaseLost)
        #expect(MeteringPolicy.stop(after: result(license, reservedMs: 0), clientIP: ip, now: now)?.0 == .ipNotAllowed)
        #expect(MeteringPolicy.stop(after: result(license, reservedMs: 0), clientIP: "10.0.0.9", now: now)?.0 == .minutesExhausted)
        let daily = MeteringPolicy.stop(after: result(license, reservedMs: 0, limitedBy: .dailyLimitReached), clientIP: "10.0.0.9", now: now)
        #expect(daily?.0 == .dailyLimitReached && daily?.1 == StreamStopSentence.exhausted(.dailyLimitReached))
        #expect(MeteringPolicy.stop(after: result(license), clientIP: "10.0.0.9", now: now) == nil)
    }

    @Test(arguments: [
        (LicenseStatus.suspended, 0.0, ErrorCode.licenseSuspended), (.revoked, 0, .licenseRevoked),
        (.active, 1, .licenseNotStarted), (.active, -1, .licenseExpired),
    ] as [(LicenseStatus, TimeInterval, ErrorCode)])
    func theLicenseStateStopsAStreamAsItRefusesAdmission(status: LicenseStatus, shift: TimeInterval, code: ErrorCode) {
        var license = TestLicense.value(status: status)
        if shift > 0 { license.startsAt = now.addingTimeInterval(shift) }
        if shift < 0 { license.expiresAt = now.addingTimeInterval(shift) }
        #expect(MeteringPolicy.licenseStateStop(license, now: now)?.0 == code)
        #expect(MeteringPolicy.licenseStateStop(license, now: now)?.1 == StreamStopSentence.licenseState(code))
        #expect(AdmissionPolicy.stateRefusal(license, now: now) == code)
        #expect(MeteringPolicy.stop(after: result(license), clientIP: "198.51.100.7", now: now)?.0 == code)
        #expect(MeteringPolicy.licenseStateStop(TestLicense.value(), now: now) == nil)
    }

    @Test func aStreamOpensOnlyOnALiveLicenseLeaseAndGrant() {
        #expect(MeteringPolicy.openRefusal(after: result(quota: false, leaseHeld: false, reservedMs: 0))?.code == .licenseNotFound)
        #expect(MeteringPolicy.openRefusal(after: result(leaseHeld: false, reservedMs: 0))?.code == .leaseLost)
        #expect(MeteringPolicy.openRefusal(after: result(reservedMs: 0, limitedBy: .dailyLimitReached))?.code == .dailyLimitReached)
        #expect(MeteringPolicy.openRefusal(after: result(reservedMs: 0))?.code == .minutesExhausted)
        #expect(MeteringPolicy.openRefusal(after: result()) == nil)
    }

    // MARK: frames

    @Test func aFrameMayGoOnlyInsideThePaceAndTheGrant() {
        func allowance(reaching: Int64, granted: Int64 = 10_000_000, elapsed: Int64 = 0) -> FrameAllowance {
            MeteringPolicy.frameAllowance(
                reachingMicroseconds: reaching, grantedMicroseconds: granted, elapsedMicroseconds: elapsed, paceAllowanceMs: 2_000)
        }
        #expect(allowance(reaching: 2_000_000) == .allowed)
        #expect(allowance(reaching: 2_000_001) == .tooFast)
        #expect(allowance(reaching: 3_000_000, elapsed: 1_000_000) == .allowed)
        // A clock that went back counts as no time at all.
        #expect(allowance(reaching: 2_000_001, elapsed: -5_000_000) == .tooFast)
        #expect(allowance(reaching: 1_000_000, granted: 1_000_000) == .allowed)
        #expect(allowance(reaching: 1_000_001, granted: 1_000_000) == .needsReservation)
        // Running too fast is the answer even when the grant is spent too.
        #expect(allowance(reaching: 2_500_000, granted: 1_000_000) == .tooFast)
    }

    /// A sender bursting 20 ms frames against a manual clock: the allowance, then real time.
    @Test func aBurstIsTakenUpToTheAllowanceAndThenAtTheWallClocksPace() {
        let start = TestLicense.epoch
        let clock = ManualClock(start)
        var accepted: Int64 = 0
        func burst(_ frames: Int) -> Int {
            var taken = 0
            for _ in 0..<frames {
                let elapsed = Int64(clock.now().timeIntervalSince(start) * 1_000_000)
                if MeteringPolicy.frameAllowance(
                    reachingMicroseconds: accepted + 20_000, grantedMicroseconds: 60_000_000, elapsedMicroseconds: elapsed,
                    paceAllowanceMs: 2_000) == .allowed
                {
                    accepted += 20_000
                    taken += 1
                }
            }
            return taken
        }
        #expect(burst(300) == 100)
        clock.advance(by: 1)
        #expect(burst(300) == 50)
        clock.advance(by: 0.5)
        #expect(burst(300) == 25)
    }
}
