@testable import Central
import Foundation
import Protocol
import Testing

/// Every rule of `AdmissionPolicy`, from values alone: no database, fixed dates and a manual clock.
struct AdmissionPolicyTests {
    let now = TestLicense.epoch.addingTimeInterval(3_600)

    func facts(
        _ license: License = TestLicense.value(), ip: String = "198.51.100.7", deviceIsBound: Bool = false,
        boundDevices: Int = 0, usedTodayMs: Int64 = 0, activeLeases: Int = 0
    ) -> AdmissionFacts {
        AdmissionFacts(
            license: license, clientIP: ip, deviceIsBound: deviceIsBound, boundDeviceCount: boundDevices,
            usedTodayMs: usedTodayMs, activeLeases: activeLeases)
    }

    @Test func aLicenseInGoodStandingIsAdmitted() {
        #expect(AdmissionPolicy.refusal(for: facts(), now: now) == nil)
    }

    /// A request failing every check hears the first; relaxing each in turn walks the contract order.
    @Test func theFirstFailingCheckIsTheAnswer() throws {
        var license = TestLicense.value(
            limitMs: 1_000, usedMs: 1_000, dailyCapMs: 500, sessionLimit: 1, sessionsUsed: 1, status: .revoked,
            startsAt: now.addingTimeInterval(60), expiresAt: now.addingTimeInterval(-60), maxConcurrent: 1, maxDevices: 1,
            ipAllowlist: try IPAllowlist.parse(["10.0.0.0/8"]).get())
        var usedToday: Int64 = 500
        let ladder: [(ErrorCode, (inout License, inout Int64) -> Void)] = [
            (.licenseRevoked, { license, _ in license.status = .suspended }),
            (.licenseSuspended, { license, _ in license.status = .active }),
            (.licenseNotStarted, { license, _ in license.startsAt = self.now.addingTimeInterval(-7_200) }),
            (.licenseExpired, { license, _ in license.expiresAt = self.now.addingTimeInterval(86_400) }),
            (.ipNotAllowed, { license, _ in license.ipAllowlist = IPAllowlist(blocks: []) }),
            (.deviceNotAllowed, { license, _ in license.maxDevices = 2 }),
            (.minutesExhausted, { license, _ in license.limitMs = 60_000 }),
            (.dailyLimitReached, { _, today in today = 0 }),
            (.sessionsExhausted, { license, _ in license.sessionLimit = nil }),
            (.concurrencyLimit, { license, _ in license.maxConcurrent = 2 }),
        ]
        for (expected, relax) in ladder {
            #expect(AdmissionPolicy.refusal(for: facts(license, boundDevices: 1, usedTodayMs: usedToday, activeLeases: 1), now: now) == expected)
            relax(&license, &usedToday)
        }
        #expect(AdmissionPolicy.refusal(for: facts(license, boundDevices: 1, usedTodayMs: usedToday, activeLeases: 1), now: now) == nil)
    }

    @Test func theValidityWindowOpensAtItsStartAndClosesAtItsEnd() {
        let clock = ManualClock(TestLicense.epoch.addingTimeInterval(-1))
        let license = TestLicense.value(startsAt: TestLicense.epoch, expiresAt: TestLicense.epoch.addingTimeInterval(86_400))
        #expect(AdmissionPolicy.stateRefusal(license, now: clock.now()) == .licenseNotStarted)
        clock.advance(by: 1)
        #expect(AdmissionPolicy.stateRefusal(license, now: clock.now()) == nil)
        clock.advance(by: 86_399)
        #expect(AdmissionPolicy.stateRefusal(license, now: clock.now()) == nil)
        clock.advance(by: 1)
        #expect(AdmissionPolicy.stateRefusal(license, now: clock.now()) == .licenseExpired)
        // An expiry counted from first use that has not started never expires.
        #expect(AdmissionPolicy.stateRefusal(TestLicense.value(expiresAt: nil, expiryFromFirstUse: true), now: clock.now()) == nil)
    }

    @Test func aBoundDeviceIsAlwaysLetInAndANewOneOnlyWhileThereIsRoom() {
        let license = TestLicense.value(maxDevices: 2)
        #expect(AdmissionPolicy.refusal(for: facts(license, deviceIsBound: true, boundDevices: 2), now: now) == nil)
        #expect(AdmissionPolicy.refusal(for: facts(license, boundDevices: 1), now: now) == nil)
        #expect(AdmissionPolicy.refusal(for: facts(license, boundDevices: 2), now: now) == .deviceNotAllowed)
        #expect(AdmissionPolicy.refusal(for: facts(TestLicense.value(maxDevices: 0)), now: now) == .deviceNotAllowed)
    }

    @Test func theAllowlistAdmitsOnlyItsNetworksAndAnEmptyOneAdmitsAll() throws {
        let license = TestLicense.value(ipAllowlist: try IPAllowlist.parse(["10.0.0.0/8", "2001:db8::/32"]).get())
        #expect(AdmissionPolicy.refusal(for: facts(license, ip: "10.200.1.1"), now: now) == nil)
        #expect(AdmissionPolicy.refusal(for: facts(license, ip: "2001:db8::5"), now: now) == nil)
        #expect(AdmissionPolicy.refusal(for: facts(license, ip: "11.0.0.1"), now: now) == .ipNotAllowed)
        #expect(AdmissionPolicy.refusal(for: facts(TestLicense.value(), ip: "11.0.0.1"), now: now) == nil)
    }

    @Test func theBalanceIsCheckedTotalThenTodayThenSessions() {
        #expect(AdmissionPolicy.balanceRefusal(TestLicense.value(limitMs: 1_000, usedMs: 999), usedTodayMs: 0) == nil)
        #expect(AdmissionPolicy.balanceRefusal(TestLicense.value(limitMs: 1_000, usedMs: 1_000), usedTodayMs: 0) == .minutesExhausted)
        #expect(AdmissionPolicy.balanceRefusal(TestLicense.value(limitMs: 0), usedTodayMs: 0) == .minutesExhausted)
        let daily = TestLicense.value(dailyCapMs: 500, sessionLimit: 1, sessionsUsed: 1)
        #expect(AdmissionPolicy.balanceRefusal(daily, usedTodayMs: 500) == .dailyLimitReached)
        #expect(AdmissionPolicy.balanceRefusal(daily, usedTodayMs: 499) == .sessionsExhausted)
        #expect(AdmissionPolicy.balanceRefusal(TestLicense.value(sessionLimit: nil, sessionsUsed: 1_000), usedTodayMs: 10_000_000) == nil)
    }

    @Test func concurrencyCountsEverySessionInUse() {
        let license = TestLicense.value(maxConcurrent: 2)
        #expect(AdmissionPolicy.refusal(for: facts(license, activeLeases: 1), now: now) == nil)
        #expect(AdmissionPolicy.refusal(for: facts(license, activeLeases: 2), now: now) == .concurrencyLimit)
        #expect(AdmissionPolicy.refusal(for: facts(TestLicense.value(maxConcurrent: 0)), now: now) == .concurrencyLimit)
    }

    @Test func expiryFromFirstUseIsSetOnceFromTheFirstAdmission() {
        let fresh = TestLicense.value(expiresAt: nil, expiryFromFirstUse: true, validityDays: 3)
        #expect(AdmissionPolicy.expiry(admitting: fresh, now: now) == now.addingTimeInterval(3 * 86_400))
        var started = fresh
        started.expiresAt = TestLicense.epoch.addingTimeInterval(86_400)
        #expect(AdmissionPolicy.expiry(admitting: started, now: now) == started.expiresAt)
        let fixed = TestLicense.value(expiresAt: TestLicense.epoch.addingTimeInterval(7 * 86_400))
        #expect(AdmissionPolicy.expiry(admitting: fixed, now: now) == fixed.expiresAt)
    }

    /// What `GET /v1/license/quota` reports: the license's own state first, then its balance;
    /// nothing about who asks from where.
    @Test func theStreamingBlockerIsTheStateThenTheBalance() {
        #expect(AdmissionPolicy.streamingBlocker(TestLicense.value(), usedTodayMs: 0, now: now) == nil)
        let spent = TestLicense.value(limitMs: 1_000, usedMs: 1_000)
        #expect(AdmissionPolicy.streamingBlocker(spent, usedTodayMs: 0, now: now) == .minutesExhausted)
        var suspended = spent
        suspended.status = .suspended
        #expect(AdmissionPolicy.streamingBlocker(suspended, usedTodayMs: 0, now: now) == .licenseSuspended)
        #expect(AdmissionPolicy.streamingBlocker(TestLicense.value(dailyCapMs: 100), usedTodayMs: 100, now: now) == .dailyLimitReached)
        let elsewhere = TestLicense.value(maxConcurrent: 0, maxDevices: 0, ipAllowlist: IPAllowlist(blocks: [CIDRBlock("10.0.0.0/8")].compactMap { $0 }))
        #expect(AdmissionPolicy.streamingBlocker(elsewhere, usedTodayMs: 0, now: now) == nil)
        #expect(AdmissionPolicy.streamingBlocker(TestLicense.value(), usedTodayMs: 0, now: TestLicense.epoch.addingTimeInterval(-1)) == .licenseNotStarted)
    }
}
