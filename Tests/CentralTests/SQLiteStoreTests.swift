@testable import Central
import Foundation
import GRDB
import Protocol
import Testing

/// What only the SQLite store promises, beyond the conformance suite: its file, its schema's
/// own guards, and its derived counters.
@Suite(.bounded) struct SQLiteStoreTests {
    @Test func theLedgerIsAppendOnlyInTheSchema() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        try await fixture.store.meter(licenseID: id, ms: 10_000, now: fixture.clock.now())
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.pool.write { try $0.execute(sql: "UPDATE ledger SET amount_ms = 0") }
        }
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.pool.write { try $0.execute(sql: "DELETE FROM ledger") }
        }
    }

    /// The per-day counters that daily caps read agree with the ledger row for row.
    @Test func theDailyCountersAgreeWithTheLedger() async throws {
        let fixture = try CentralFixture()
        let (_, first) = try await fixture.createLicense { $0.minutes = 100 }
        let (_, second) = try await fixture.createLicense { $0.minutes = 100 }
        for day in 0..<3 {
            for (index, license) in [first, second].enumerated() {
                try await fixture.store.meter(licenseID: license, ms: Int64(1_001 * (day + 1) + index * 17), now: fixture.clock.now())
            }
            fixture.clock.advance(by: 86_400)
        }
        let report = try await fixture.store.usage(UsageQuery())
        let counters = try await fixture.store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT license_id, day, used_ms FROM daily_usage").map {
                ($0["day"] as String) + ($0["license_id"] as String) + ":" + String($0["used_ms"] as Int64)
            }
        }
        #expect(report.rows.count == 6)
        #expect(Set(counters) == Set(report.rows.map { "\($0.day)\($0.licenseID):\($0.usedMs)" }))
    }

    @Test func aDamagedAllowlistFailsClosed() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.ipAllowlist = try? IPAllowlist.parse(["10.0.0.0/8"]).get() }
        try await fixture.store.pool.write { db in
            try db.execute(sql: "UPDATE licenses SET ip_allowlist = '[\"garbage\"]' WHERE id = ?", arguments: [id])
        }
        await #expect(throws: StoreError.self) {
            _ = try await fixture.store.admit(
                AdmissionRequest(licenseKey: key, deviceFingerprint: "device-1", clientIP: "10.0.0.1"),
                keyHash: LicenseKey.hash(key), leaseTTL: fixture.configuration.leaseTTL, now: fixture.clock.now())
        }
    }

    @Test func reopeningTheFileKeepsDataInWALMode() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        let reopened = try fixture.secondStore()
        try await reopened.checkReady()
        #expect(try await reopened.license(id: id)?.customerName == "Test Customer")
        let journal = try await reopened.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }
}
