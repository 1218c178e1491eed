@testable import Central
import Foundation
import Protocol
import Testing

/// `LicenseStore`: plans, licenses, their devices, as every store must keep them.
@Suite(.bounded, .postgresTestScope) struct LicenseStoreConformanceTests {
    let actor = AdminOperator(name: "op", ip: "192.0.2.10")

    @Test(arguments: StoreFactory.all)
    func aLicenseReadsBackAsInsertedByIDAndByKeyHash(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        var license = TestLicense.value(
            id: "lic_0123456789abcdef", limitMs: 90_000, usedMs: 1_500, dailyCapMs: 30_000, sessionLimit: 7,
            sessionsUsed: 2, expiryFromFirstUse: false, maxConcurrent: 3, maxDevices: 5,
            ipAllowlist: try IPAllowlist.parse(["10.0.0.0/8", "2001:db8::/32"]).get())
        license.customerEmail = "ops@example.com"
        license.notes = "first line\nsecond line"
        license.lastUsedAt = TestLicense.epoch.addingTimeInterval(60)
        try await s.store.insertLicense(license, keyHash: "hash-a", actor: actor)
        #expect(try await s.store.license(id: license.id) == license)
        #expect(try await s.store.license(keyHash: "hash-a") == license)
        #expect(try await s.store.license(id: "lic_unknown") == nil)
        #expect(try await s.store.license(keyHash: "hash-unknown") == nil)

        // A key hash names one license.
        var twin = license
        twin.id = "lic_fedcba9876543210"
        await #expect(throws: StoreError.duplicateKey) {
            try await s.store.insertLicense(twin, keyHash: "hash-a", actor: actor)
        }
        #expect(try await s.store.license(id: twin.id) == nil)

        let audit = try await s.store.audit(AuditQuery(licenseID: license.id))
        #expect(audit.map(\.action) == ["license.create"])
        #expect(audit.first?.actor == "op" && audit.first?.ip == "192.0.2.10")
    }

    @Test(arguments: StoreFactory.all)
    func listingFiltersSearchesAndPagesNewestFirst(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        var ids: [String] = []
        for (index, name) in ["Alpha Labs", "Beta 100% Pure", "Gamma_Ltd", "Delta", "Epsilon", "Zeta", "Omega"].enumerated() {
            let (_, id) = try await s.createLicense {
                $0.customerName = name
                $0.plan = index.isMultiple(of: 2) ? "trial-basic" : "trial-standard"
                if index == 3 { $0.customerEmail = "finder@example.org" }
                if index == 4 { $0.notes = "renewal due in spring" }
            }
            ids.append(id)
            s.clock.advance(by: 1)
        }
        _ = try await s.administration.perform(.suspend, id: ids[1])
        _ = try await s.administration.perform(.suspend, id: ids[5])
        try await s.administration.deleteLicense(id: ids[6])
        let live = Array(ids.prefix(6))

        // Pages of two, newest first, until there is no cursor: every live license once.
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await s.store.listLicenses(LicenseFilter(limit: 2, cursor: cursor))
            #expect(page.licenses.count <= 2)
            seen += page.licenses.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == Array(live.reversed()))
        #expect(try await s.store.listLicenses(LicenseFilter(limit: 6)).nextCursor == nil)

        func matching(_ filter: LicenseFilter) async throws -> Set<String> {
            Set(try await s.store.listLicenses(filter).licenses.map(\.id))
        }
        #expect(try await matching(LicenseFilter(status: .suspended)) == [ids[1], ids[5]])
        #expect(try await matching(LicenseFilter(status: .active, plan: "trial-basic")) == [ids[0], ids[2], ids[4]])
        #expect(try await matching(LicenseFilter(query: "Alpha")) == [ids[0]])
        #expect(try await matching(LicenseFilter(query: "finder@")) == [ids[3]])
        #expect(try await matching(LicenseFilter(query: "renewal")) == [ids[4]])
        #expect(try await matching(LicenseFilter(query: ids[2])) == [ids[2]])
        let prefix = try await s.license(ids[3]).keyPrefix
        #expect(try await matching(LicenseFilter(query: prefix)) == [ids[3]])
        // The pattern characters of SQL are matched literally ("a_L" would match "Alpha Labs").
        #expect(try await matching(LicenseFilter(query: "%")) == [ids[1]])
        #expect(try await matching(LicenseFilter(query: "a_L")) == [ids[2]])
        #expect(try await matching(LicenseFilter(query: "Omega")).isEmpty) // deleted
        await #expect(throws: StoreError.invalidCursor) {
            _ = try await s.store.listLicenses(LicenseFilter(cursor: "not-a-cursor"))
        }
    }

    @Test(arguments: StoreFactory.all)
    func modifyingWritesACreditWhenTheLimitMovesAndAlwaysAnAudit(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.minutes = 1 }
        s.clock.advance(by: 5)
        let raised = try #require(try await s.store.modifyLicense(
            id: id, action: "license.topup", detail: "minutes=0.5", actor: actor, now: s.now) { $0.limitMs += 30_000 })
        #expect(raised.limitMs == 90_000 && raised.updatedAt == s.now)
        #expect(try await s.license(id) == raised)
        _ = try await s.store.modifyLicense(id: id, action: "license.update", detail: "notes", actor: actor, now: s.now) {
            $0.notes = "changed"
        }
        _ = try await s.store.modifyLicense(id: id, action: "license.update", detail: "minutes", actor: actor, now: s.now) {
            $0.limitMs = 40_000
        }
        // Only changes of the limit reach the ledger, each with the balance before and after.
        let ledger = try await s.store.ledger(licenseID: id)
        #expect(ledger.map(\.kind) == [.credit, .credit])
        #expect(ledger.map(\.amountMs) == [30_000, -50_000])
        #expect(ledger.map(\.balanceBeforeMs) == [60_000, 90_000] && ledger.map(\.balanceAfterMs) == [90_000, 40_000])
        #expect(ledger.map(\.reason) == ["license.topup", "license.update"])
        #expect(Set(ledger.map(\.idempotencyKey)).count == 2)
        let audit = try await s.store.audit(AuditQuery(licenseID: id))
        #expect(audit.map(\.action) == ["license.update", "license.update", "license.topup", "license.create"])
        #expect(audit.map(\.detail).prefix(3) == ["minutes", "notes", "minutes=0.5"])
        #expect(audit.prefix(3).allSatisfy { $0.actor == "op" && $0.ip == "192.0.2.10" })

        // A change that throws changes nothing at all.
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await s.store.modifyLicense(id: id, action: "license.topup", detail: nil, actor: actor, now: s.now) {
                $0.limitMs += 1_000
                throw Refused()
            }
        }
        #expect(try await s.license(id).limitMs == 40_000)
        #expect(try await s.store.ledger(licenseID: id).count == 2)
        #expect(try await s.store.audit(AuditQuery(licenseID: id)).count == 4)
        // No such license: nil, and no trace.
        #expect(try await s.store.modifyLicense(id: "lic_unknown", action: "x", detail: nil, actor: actor, now: s.now) { _ in } == nil)
        #expect(try await s.store.audit(AuditQuery(licenseID: "lic_unknown")).isEmpty)
    }

    /// A deleted license stops authenticating at once, but everything it streamed stays billed,
    /// including what a stream still forwards after the deletion.
    @Test(arguments: StoreFactory.all)
    func aSoftDeletedLicenseIsGoneButStaysBillable(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        try await s.store.meter(licenseID: id, ms: 2_000, now: s.now)
        let stream = try await s.stream(key, licenseID: id)
        #expect(try await s.store.deleteLicense(id: id, actor: actor, now: s.now))
        #expect(try await s.store.deleteLicense(id: id, actor: actor, now: s.now) == false)
        #expect(try await s.store.deleteLicense(id: "lic_unknown", actor: actor, now: s.now) == false)
        #expect(try await s.store.license(id: id) == nil)
        #expect(try await s.store.license(keyHash: LicenseKey.hash(key)) == nil)
        #expect(try await s.store.listLicenses(LicenseFilter()).licenses.isEmpty)
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).isEmpty)

        // The stream's first audio after the deletion: billed and counted, nothing reserved.
        let after = try await stream.checkpoint(acceptedMs: 700, reserveMs: 2_000, now: s.now)
        #expect(after.appliedMs == 700 && after.reservedMs == 0)
        #expect(after.license == nil && after.quota == nil && !after.leaseHeld)
        try await stream.close(.licenseNotFound, now: s.now)
        #expect(try await s.debitedMs(id) == 2_700)
        let usage = try await s.store.usage(UsageQuery(licenseID: id))
        #expect(usage.totalMs == 2_700 && usage.rows.first?.sessionsStarted == 2)
        #expect(try await s.store.audit(AuditQuery(licenseID: id)).first?.action == "license.delete")
    }

    @Test(arguments: StoreFactory.all)
    func devicesBindInOrderAndResetForgetsThem(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.devices = 3; $0.concurrent = 3 }
        for device in ["first", "second"] {
            #expect(try await s.admit(key, device: device).refusalCode == nil)
            s.clock.advance(by: 1)
        }
        let devices = try await s.store.devices(licenseID: id)
        #expect(devices.map(\.fingerprint) == ["first", "second"])
        #expect(devices[0].boundAt < devices[1].boundAt)
        #expect(try await s.store.devices(licenseID: "lic_unknown").isEmpty)
        #expect(try await s.store.resetDevices(licenseID: id, actor: actor, now: s.now) == 2)
        #expect(try await s.store.devices(licenseID: id).isEmpty)
        #expect(try await s.store.resetDevices(licenseID: id, actor: actor, now: s.now) == 0)
        #expect(try await s.store.resetDevices(licenseID: "lic_unknown", actor: actor, now: s.now) == nil)
        let audit = try await s.store.audit(AuditQuery(licenseID: id))
        #expect(audit.prefix(2).map(\.action) == ["license.reset_devices", "license.reset_devices"])
        #expect(audit.prefix(2).map(\.detail) == ["removed=0", "removed=2"])
    }

    @Test(arguments: StoreFactory.all)
    func plansStartWithTheDefaultsAndSaveAsUpserts(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        #expect(Set(try await s.store.plans().map(\.name)) == Set(Plan.defaults.map(\.name)))
        #expect(try await s.store.plan(named: "trial-basic") == Plan.defaults.first { $0.name == "trial-basic" })
        #expect(try await s.store.plan(named: "no-such-plan") == nil)
        var plan = Plan(
            name: "school", validityDays: 365, minutes: 6_000, sessionLimit: nil, maxConcurrent: 20, maxDevices: 40,
            dailyMinutes: 120, description: "A school year")
        try await s.store.savePlan(plan, actor: actor, now: s.now)
        plan.maxConcurrent = 25
        plan.dailyMinutes = nil
        try await s.store.savePlan(plan, actor: actor, now: s.now)
        #expect(try await s.store.plan(named: "school") == plan)
        #expect(try await s.store.plans().map(\.name) == (Plan.defaults.map(\.name) + ["school"]).sorted())
        let audit = try await s.store.audit(AuditQuery())
        #expect(audit.prefix(2).map(\.action) == ["plan.save", "plan.save"] && audit.first?.detail == "school")
    }

    @Test(arguments: StoreFactory.all)
    func theQuotaCountsTodaysUsageAndTheSessionsInUse(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.minutes = 2; $0.dailyMinutes = 1; $0.concurrent = 2 }
        try await s.store.meter(licenseID: id, ms: 45_000, now: s.now)
        _ = try await s.lease(key)
        var quota = try await s.store.quota(for: try await s.license(id), now: s.now)
        #expect(quota.secondsUsed == 45 && quota.dailyRemainingSeconds == 15 && quota.concurrentInUse == 1)
        #expect(quota.sessionsUsed == 1 && quota.canStream)
        // Tomorrow the daily allowance is whole again; the lease has lapsed.
        s.clock.advance(by: 86_400)
        quota = try await s.store.quota(for: try await s.license(id), now: s.now)
        #expect(quota.dailyRemainingSeconds == 60 && quota.secondsRemaining == 75 && quota.concurrentInUse == 0)
        try await s.store.meter(licenseID: id, ms: 60_000, now: s.now)
        quota = try await s.store.quota(for: try await s.license(id), now: s.now)
        #expect(quota.dailyRemainingSeconds == 0 && quota.blockedBy == .dailyLimitReached)
    }
}
