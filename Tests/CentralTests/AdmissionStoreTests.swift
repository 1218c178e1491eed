@testable import Central
import Foundation
import GRDB
import Protocol
import Testing

@Suite struct AdmissionStoreTests {
    func admit(_ fixture: CentralFixture, _ key: String, device: String = "device-1", ip: String = "198.51.100.7",
               store: (any CentralStore)? = nil) async throws -> AdmissionDecision {
        try await (store ?? fixture.store).admit(
            AdmissionRequest(licenseKey: key, deviceFingerprint: device, clientIP: ip),
            keyHash: LicenseKey.hash(key), leaseTTL: fixture.configuration.leaseTTL, now: fixture.clock.now())
    }

    @Test func exactlyOneOfManyRacingAdmissionsWinsASingleSlot() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.concurrent = 1; $0.devices = 100 }
        // Several pools on one file: separate SQLite connections, as separate processes would use.
        let stores: [SQLiteCentralStore] = [fixture.store, try fixture.secondStore(), try fixture.secondStore(), try fixture.secondStore()]
        let decisions = try await withThrowingTaskGroup(of: AdmissionDecision.self) { group in
            for index in 0..<60 {
                let store = stores[index % stores.count]
                group.addTask { try await admit(fixture, key, device: "device-\(index)", store: store) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let admitted = decisions.filter { $0.refusalCode == nil }
        #expect(admitted.count == 1)
        #expect(decisions.filter { $0.refusalCode == .concurrencyLimit }.count == 59)
        #expect(try await fixture.store.activeLeases(licenseID: id, now: fixture.clock.now()).count == 1)
    }

    @Test func aLapsedLeaseFreesItsSlotWithoutARelease() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.concurrent = 1 }
        guard case .admitted(let first, _) = try await admit(fixture, key) else {
            Issue.record("first admission refused")
            return
        }
        #expect(try await admit(fixture, key).refusalCode == .concurrencyLimit)

        // A heartbeat before expiry keeps the slot.
        fixture.clock.advance(by: fixture.configuration.leaseTTL - 1)
        let renewed = try await fixture.store.renewLease(id: first.id, licenseID: id, leaseTTL: fixture.configuration.leaseTTL, now: fixture.clock.now())
        #expect(renewed != nil)
        fixture.clock.advance(by: fixture.configuration.leaseTTL - 1)
        #expect(try await admit(fixture, key).refusalCode == .concurrencyLimit)

        // Then the holder vanishes: nobody releases, and the slot frees itself when the lease lapses.
        fixture.clock.advance(by: 2)
        #expect(try await fixture.store.activeLeaseCount(now: fixture.clock.now()) == 0)
        #expect(try await fixture.store.renewLease(id: first.id, licenseID: id, leaseTTL: 30, now: fixture.clock.now()) == nil)
        #expect(try await admit(fixture, key).refusalCode == nil)
    }

    @Test func releaseFreesTheSlotAtOnce() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense()
        guard case .admitted(let lease, _) = try await admit(fixture, key) else {
            Issue.record("refused")
            return
        }
        #expect(try await fixture.store.releaseLease(id: lease.id, licenseID: "lic_other") == false)
        #expect(try await fixture.store.releaseLease(id: lease.id, licenseID: id))
        #expect(try await admit(fixture, key).refusalCode == nil)
    }

    @Test func refusalCodesComeInContractOrder() async throws {
        let fixture = try CentralFixture()
        let clock = fixture.clock
        #expect(try await admit(fixture, LicenseKey.generate(kind: .trial).value).refusalCode == .licenseNotFound)

        // A license failing every later check reports the earliest failing one.
        let (key, id) = try await fixture.createLicense {
            $0.concurrent = 1; $0.devices = 1; $0.ipAllowlist = try? IPAllowlist.parse(["10.0.0.0/8"]).get(); $0.sessions = 1; $0.minutes = 1
            $0.dailyMinutes = 0.5
        }
        guard case .admitted = try await admit(fixture, key, device: "bound", ip: "10.1.1.1") else {
            Issue.record("setup admission refused")
            return
        }
        _ = try await fixture.store.recordSessionStart(licenseID: id, sessionID: "s1", now: clock.now())
        _ = try await fixture.store.debit(DebitRequest(licenseID: id, sessionID: "s1", amountMs: 60_000, idempotencyKey: "d1"), now: clock.now())
        let administration = fixture.administration
        _ = try await administration.perform(.revoke, id: id)
        let ladder: [(ErrorCode, () async throws -> Void)] = [
            (.licenseRevoked, { _ = try await fixture.store.modifyLicense(id: id, action: "test", detail: nil, actor: Actor(name: "t", ip: nil), now: clock.now()) { $0.status = .suspended } }),
            (.licenseSuspended, { _ = try await administration.perform(.resume, id: id); _ = try await fixture.store.modifyLicense(id: id, action: "test", detail: nil, actor: Actor(name: "t", ip: nil), now: clock.now()) { $0.startsAt = clock.now().addingTimeInterval(3600) } }),
            (.licenseNotStarted, { _ = try await fixture.store.modifyLicense(id: id, action: "test", detail: nil, actor: Actor(name: "t", ip: nil), now: clock.now()) { $0.startsAt = clock.now().addingTimeInterval(-7200); $0.expiresAt = clock.now().addingTimeInterval(-3600) } }),
            (.licenseExpired, { _ = try await administration.perform(.extend(days: 2), id: id) }),
            (.ipNotAllowed, { var p = LicensePatch(); p.ipAllowlist = try IPAllowlist.parse(["198.51.100.0/24"]).get(); _ = try await administration.updateLicense(id: id, p) }),
            (.deviceNotAllowed, { var p = LicensePatch(); p.devices = 2; _ = try await administration.updateLicense(id: id, p) }),
            (.minutesExhausted, { _ = try await administration.perform(.topup(minutes: 5), id: id) }),
            (.dailyLimitReached, { clock.advance(by: 86_400) }),
            (.sessionsExhausted, {
                var p = LicensePatch(); p.sessions = .clear; _ = try await administration.updateLicense(id: id, p)
                // The day jump let the first lease lapse; the bound device takes the only slot again.
                #expect(try await admit(fixture, key, device: "bound").refusalCode == nil)
            }),
            (.concurrencyLimit, {}),
        ]
        for (expected, relax) in ladder {
            #expect(try await admit(fixture, key, device: "new-device").refusalCode == expected)
            try await relax()
        }
        // Once the bound device's lease lapses, the new device is admitted.
        clock.advance(by: 60)
        #expect(try await admit(fixture, key, device: "new-device").refusalCode == nil)
    }

    @Test func theFirstNDevicesBindAndTheNextIsRefused() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.devices = 2; $0.concurrent = 10 }
        #expect(try await admit(fixture, key, device: "a").refusalCode == nil)
        #expect(try await admit(fixture, key, device: "b").refusalCode == nil)
        #expect(try await admit(fixture, key, device: "c").refusalCode == .deviceNotAllowed)
        #expect(try await admit(fixture, key, device: "a").refusalCode == nil)
        // A refused admission binds nothing.
        #expect(try await fixture.store.devices(licenseID: id).map(\.fingerprint) == ["a", "b"])
        _ = try await fixture.administration.perform(.resetDevices, id: id)
        #expect(try await admit(fixture, key, device: "c").refusalCode == nil)
    }

    @Test func expiryCountedFromFirstUseStartsAtTheFirstAdmission() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.expiryFromFirstUse = true; $0.days = 3 }
        #expect(try await fixture.store.license(id: id)?.expiresAt == nil)
        fixture.clock.advance(by: 10 * 86_400)
        let firstUse = fixture.clock.now()
        #expect(try await admit(fixture, key).refusalCode == nil)
        let expiresAt = try #require(try await fixture.store.license(id: id)?.expiresAt)
        #expect(abs(expiresAt.timeIntervalSince(firstUse) - 3 * 86_400) < 0.01)
        fixture.clock.advance(by: 3 * 86_400)
        #expect(try await admit(fixture, key, device: "other").refusalCode == .licenseExpired)
    }

    @Test func aDeletedLicenseNoLongerAuthenticatesButKeepsItsLedger() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense()
        _ = try await fixture.store.debit(DebitRequest(licenseID: id, sessionID: nil, amountMs: 1234, idempotencyKey: "k"), now: fixture.clock.now())
        try await fixture.administration.deleteLicense(id: id)
        #expect(try await admit(fixture, key).refusalCode == .licenseNotFound)
        #expect(try await fixture.store.usage(UsageQuery(licenseID: id)).totalMs == 1234)
    }

    @Test func aDamagedAllowlistFailsClosed() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.ipAllowlist = try? IPAllowlist.parse(["10.0.0.0/8"]).get() }
        try await fixture.store.pool.write { db in
            try db.execute(sql: "UPDATE licenses SET ip_allowlist = '[\"garbage\"]' WHERE id = ?", arguments: [id])
        }
        await #expect(throws: StoreError.self) { _ = try await admit(fixture, key, ip: "10.0.0.1") }
    }

    @Test func reopeningTheFileKeepsDataAndReportsReady() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        let reopened = try fixture.secondStore()
        try await reopened.checkReady()
        #expect(try await reopened.license(id: id)?.customerName == "Test Customer")
        let journal = try await reopened.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }
}
