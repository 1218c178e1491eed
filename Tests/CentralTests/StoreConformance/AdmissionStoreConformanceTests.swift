@testable import Central
import Foundation
import Protocol
import Testing

/// `AdmissionStore`: what every store must do when a device asks to stream.
@Suite(.bounded, .postgresTestScope) struct AdmissionStoreConformanceTests {
    /// N admissions race from several connections (as several processes would) for `k` slots:
    /// exactly `k` win.
    @Test(arguments: StoreFactory.all, [1, 3])
    func racingAdmissionsWinExactlyTheFreeSlots(_ factory: StoreFactory, slots: Int) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = slots; $0.devices = 100 }
        let connections = try await s.connections(4)
        let decisions = try await withThrowingTaskGroup(of: AdmissionDecision.self) { group in
            for index in 0..<60 {
                let connection = connections[index % connections.count]
                group.addTask { try await s.admit(key, device: "device-\(index)", via: connection) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(decisions.filter { $0.refusalCode == nil }.count == slots)
        #expect(decisions.filter { $0.refusalCode == .concurrencyLimit }.count == 60 - slots)
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).count == slots)
        #expect(try await s.store.activeLeaseCount(now: s.now) == slots)
    }

    @Test(arguments: StoreFactory.all)
    func anAdmissionHoldsALeaseAndReportsTheQuota(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 2 }
        let decision = try await s.admit(key, device: "device-a", ip: "203.0.113.9", holder: "edge-host")
        guard case .admitted(let lease, let quota) = decision else {
            Issue.record("refused: \(String(describing: decision.refusalCode))")
            return
        }
        #expect(lease.licenseID == id && lease.deviceFingerprint == "device-a" && lease.holder == "edge-host")
        #expect(lease.clientIP == "203.0.113.9")
        #expect(abs(lease.expiresAt.timeIntervalSince(s.now) - s.leaseTTL) < 0.01)
        #expect(quota.concurrentInUse == 1 && quota.concurrentLimit == 2 && quota.canStream)
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now) == [lease])
        #expect(try await s.store.activeLeases(licenseID: nil, now: s.now) == [lease])
        #expect(try await s.store.activeLeases(licenseID: "lic_other", now: s.now).isEmpty)
        #expect(try await s.license(id).lastUsedAt != nil)
    }

    @Test(arguments: StoreFactory.all)
    func aLapsedLeaseFreesItsSlotWithoutARelease(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 1 }
        let first = try await s.lease(key)
        #expect(try await s.admit(key).refusalCode == .concurrencyLimit)

        // A heartbeat before expiry keeps the slot.
        s.clock.advance(by: s.leaseTTL - 1)
        let renewed = try await s.store.renewLease(id: first.id, licenseID: id, leaseTTL: s.leaseTTL, now: s.now)
        #expect(renewed?.id == first.id)
        #expect(renewed.map { abs($0.expiresAt.timeIntervalSince(s.now) - s.leaseTTL) < 0.01 } == true)
        s.clock.advance(by: s.leaseTTL - 1)
        #expect(try await s.admit(key).refusalCode == .concurrencyLimit)

        // Then the holder vanishes: nobody releases, and the slot frees itself when the lease lapses.
        s.clock.advance(by: 2)
        #expect(try await s.store.activeLeaseCount(now: s.now) == 0)
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).isEmpty)
        #expect(try await s.store.renewLease(id: first.id, licenseID: id, leaseTTL: 30, now: s.now) == nil)
        #expect(try await s.admit(key).refusalCode == nil)
    }

    @Test(arguments: StoreFactory.all)
    func renewAndReleaseAnswerOnlyForTheirOwnLicense(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        let lease = try await s.lease(key)
        #expect(try await s.store.renewLease(id: lease.id, licenseID: "lic_other", leaseTTL: 30, now: s.now) == nil)
        #expect(try await s.store.renewLease(id: "lease_unknown", licenseID: id, leaseTTL: 30, now: s.now) == nil)
        #expect(try await s.store.releaseLease(id: lease.id, licenseID: "lic_other") == false)
        // Release frees the slot at once.
        #expect(try await s.store.releaseLease(id: lease.id, licenseID: id))
        #expect(try await s.store.releaseLease(id: lease.id, licenseID: id) == false)
        #expect(try await s.store.renewLease(id: lease.id, licenseID: id, leaseTTL: 30, now: s.now) == nil)
        #expect(try await s.admit(key).refusalCode == nil)
    }

    @Test(arguments: StoreFactory.all)
    func refusalCodesComeInContractOrder(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let clock = s.clock
        #expect(try await s.admit(LicenseKey.generate(kind: .trial).value).refusalCode == .licenseNotFound)

        // A license failing every later check reports the earliest failing one.
        let (key, id) = try await s.createLicense {
            $0.concurrent = 1; $0.devices = 1; $0.ipAllowlist = try? IPAllowlist.parse(["10.0.0.0/8"]).get(); $0.sessions = 1; $0.minutes = 1
            $0.dailyMinutes = 0.5
        }
        let bound = try await s.lease(key, device: "bound", ip: "10.1.1.1")
        // Spent through a stream on that lease: today's half, then tomorrow the rest, so both
        // the total and today's cap are used up and the one session is counted.
        let stream = try await MeteredStream.open(on: s.store, licenseID: id, leaseID: bound.id, device: "bound", now: clock.now())
        #expect(try await stream.checkpoint(acceptedMs: 30_000, now: clock.now()).appliedMs == 30_000)
        clock.advance(by: 86_400)
        #expect(try await stream.checkpoint(acceptedMs: 60_000, now: clock.now()).appliedMs == 30_000)
        try await stream.close(now: clock.now())
        let administration = s.administration
        let store = s.store
        let actor = AdminOperator(name: "t", ip: nil)
        _ = try await administration.perform(.revoke, id: id)
        let ladder: [(ErrorCode, () async throws -> Void)] = [
            (.licenseRevoked, { _ = try await store.modifyLicense(id: id, action: "test", detail: nil, actor: actor, now: clock.now()) { $0.status = .suspended } }),
            (.licenseSuspended, { _ = try await administration.perform(.resume, id: id); _ = try await store.modifyLicense(id: id, action: "test", detail: nil, actor: actor, now: clock.now()) { $0.startsAt = clock.now().addingTimeInterval(3600) } }),
            (.licenseNotStarted, { _ = try await store.modifyLicense(id: id, action: "test", detail: nil, actor: actor, now: clock.now()) { $0.startsAt = clock.now().addingTimeInterval(-7200); $0.expiresAt = clock.now().addingTimeInterval(-3600) } }),
            (.licenseExpired, { _ = try await administration.perform(.extend(days: 2), id: id) }),
            (.ipNotAllowed, { var p = LicensePatch(); p.ipAllowlist = try IPAllowlist.parse(["198.51.100.0/24"]).get(); _ = try await administration.updateLicense(id: id, p) }),
            (.deviceNotAllowed, { var p = LicensePatch(); p.devices = 2; _ = try await administration.updateLicense(id: id, p) }),
            (.minutesExhausted, { _ = try await administration.perform(.topup(minutes: 5), id: id) }),
            (.dailyLimitReached, { clock.advance(by: 86_400) }),
            (.sessionsExhausted, {
                var p = LicensePatch(); p.sessions = .clear; _ = try await administration.updateLicense(id: id, p)
                // The bound device's first lease lapsed long ago; it takes the only slot again.
                #expect(try await s.admit(key, device: "bound").refusalCode == nil)
            }),
            (.concurrencyLimit, {}),
        ]
        for (expected, relax) in ladder {
            #expect(try await s.admit(key, device: "new-device").refusalCode == expected)
            try await relax()
        }
        // Once the bound device's lease lapses, the new device is admitted.
        clock.advance(by: 60)
        #expect(try await s.admit(key, device: "new-device").refusalCode == nil)
    }

    @Test(arguments: StoreFactory.all)
    func aRefusedAdmissionHoldsNothingAndNamesTheLicense(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.ipAllowlist = try? IPAllowlist.parse(["10.0.0.0/8"]).get() }
        guard case .refused(let code, let license) = try await s.admit(key, ip: "192.0.2.1") else {
            Issue.record("admitted from outside the allowlist")
            return
        }
        #expect(code == .ipNotAllowed && license?.id == id)
        #expect(try await s.store.activeLeaseCount(now: s.now) == 0)
        #expect(try await s.store.devices(licenseID: id).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func theFirstNDevicesBindAndTheNextIsRefused(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.devices = 2; $0.concurrent = 10 }
        #expect(try await s.admit(key, device: "a").refusalCode == nil)
        s.clock.advance(by: 1)
        #expect(try await s.admit(key, device: "b").refusalCode == nil)
        #expect(try await s.admit(key, device: "c").refusalCode == .deviceNotAllowed)
        s.clock.advance(by: 1)
        #expect(try await s.admit(key, device: "a").refusalCode == nil)
        // A refused admission binds nothing; a bound device's admission updates when it was last seen.
        let devices = try await s.store.devices(licenseID: id)
        #expect(devices.map(\.fingerprint) == ["a", "b"])
        #expect(devices.first.map { $0.lastSeenAt > $0.boundAt } == true)
        _ = try await s.administration.perform(.resetDevices, id: id)
        #expect(try await s.admit(key, device: "c").refusalCode == nil)
    }

    @Test(arguments: StoreFactory.all)
    func expiryCountedFromFirstUseIsSetByTheFirstAdmissionOnly(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.expiryFromFirstUse = true; $0.days = 3 }
        #expect(try await s.license(id).expiresAt == nil)
        s.clock.advance(by: 10 * 86_400)
        let firstUse = s.now
        #expect(try await s.admit(key).refusalCode == nil)
        let expiresAt = try #require(try await s.license(id).expiresAt)
        #expect(abs(expiresAt.timeIntervalSince(firstUse) - 3 * 86_400) < 0.01)
        // A later admission does not move it.
        s.clock.advance(by: 86_400)
        #expect(try await s.admit(key).refusalCode == nil)
        #expect(try await s.license(id).expiresAt == expiresAt)
        s.clock.advance(by: 2 * 86_400)
        #expect(try await s.admit(key, device: "other").refusalCode == .licenseExpired)
    }

    @Test(arguments: StoreFactory.all)
    func aDeletedLicenseNoLongerAuthenticatesButKeepsItsLedger(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        let lease = try await s.lease(key)
        try await s.store.meter(licenseID: id, ms: 1234, now: s.now)
        try await s.administration.deleteLicense(id: id)
        #expect(try await s.admit(key).refusalCode == .licenseNotFound)
        // Deleting drops its leases.
        #expect(try await s.store.renewLease(id: lease.id, licenseID: id, leaseTTL: 30, now: s.now) == nil)
        #expect(try await s.store.activeLeaseCount(now: s.now) == 0)
        #expect(try await s.store.usage(UsageQuery(licenseID: id)).totalMs == 1234)
    }

    @Test(arguments: StoreFactory.all)
    func anotherConnectionSeesTheDataAndReportsReady(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        try await s.store.checkReady()
        let reopened = try await s.anotherConnection()
        try await reopened.checkReady()
        #expect(try await reopened.license(id: id)?.customerName == "Test Customer")
    }
}
