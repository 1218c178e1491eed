@testable import Central
import Foundation
import GRDB
import Protocol
import Testing

@Suite struct LedgerTests {
    @Test func replayingADebitChangesNothing() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense { $0.minutes = 10 }
        let request = DebitRequest(licenseID: id, sessionID: "s1", amountMs: 2_345, idempotencyKey: "s1:checkpoint:1")
        let first = try await fixture.store.debit(request, now: fixture.clock.now())
        let second = try await fixture.store.debit(request, now: fixture.clock.now())
        #expect(first.appliedMs == 2_345 && !first.replayed)
        #expect(second.replayed && second.appliedMs == 2_345 && second.usedMs == 2_345)
        #expect(try await fixture.store.license(id: id)?.usedMs == 2_345)
        #expect(try await fixture.store.ledger(licenseID: id).filter { $0.kind == .debit }.count == 1)
    }

    @Test func reusingAKeyForADifferentDebitIsAConflict() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        _ = try await fixture.store.debit(DebitRequest(licenseID: id, sessionID: nil, amountMs: 100, idempotencyKey: "k"), now: fixture.clock.now())
        await #expect(throws: DebitError.idempotencyConflict) {
            _ = try await fixture.store.debit(DebitRequest(licenseID: id, sessionID: nil, amountMs: 200, idempotencyKey: "k"), now: fixture.clock.now())
        }
        await #expect(throws: DebitError.invalidAmount) {
            _ = try await fixture.store.debit(DebitRequest(licenseID: id, sessionID: nil, amountMs: -1, idempotencyKey: "n"), now: fixture.clock.now())
        }
    }

    @Test func aDebitStopsAtTheLimitUnlessABoundedOverrunIsAsked() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense { $0.minutes = 1 } // 60 000 ms
        let clipped = try await fixture.store.debit(
            DebitRequest(licenseID: id, sessionID: nil, amountMs: 70_000, idempotencyKey: "a"), now: fixture.clock.now())
        #expect(clipped.appliedMs == 60_000 && clipped.usedMs == 60_000 && clipped.exhausted)
        let overrun = try await fixture.store.debit(
            DebitRequest(licenseID: id, sessionID: nil, amountMs: 5_000, idempotencyKey: "b", allowedOverrunMs: 1_000),
            now: fixture.clock.now())
        #expect(overrun.appliedMs == 1_000 && overrun.usedMs == 61_000)
        let nothing = try await fixture.store.debit(
            DebitRequest(licenseID: id, sessionID: nil, amountMs: 5_000, idempotencyKey: "c"), now: fixture.clock.now())
        #expect(nothing.appliedMs == 0 && nothing.usedMs == 61_000)
    }

    @Test func concurrentDebitsFromSeveralConnectionsSumExactly() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense { $0.minutes = 1_000 }
        let stores = [fixture.store, try fixture.secondStore(), try fixture.secondStore()]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<90 {
                let store = stores[index % stores.count]
                group.addTask {
                    let request = DebitRequest(licenseID: id, sessionID: "s", amountMs: 777, idempotencyKey: "k\(index % 45)")
                    _ = try await store.debit(request, now: fixture.clock.now())
                }
            }
            try await group.waitForAll()
        }
        // 45 distinct keys, each sent twice.
        #expect(try await fixture.store.license(id: id)?.usedMs == 45 * 777)
    }

    @Test func usagePerDayEqualsTheLedgerAndTheCounters() async throws {
        let fixture = try CentralFixture()
        let (_, first) = try await fixture.createLicense { $0.minutes = 100 }
        let (_, second) = try await fixture.createLicense { $0.minutes = 100; $0.customerName = "Second, \"Quoted\" Ltd" }
        var expectedPerDay: [String: Int64] = [:]
        for day in 0..<3 {
            for (index, license) in [first, second].enumerated() {
                let amount = Int64(1_001 * (day + 1) + index * 17)
                _ = try await fixture.store.recordSessionStart(licenseID: license, sessionID: "\(license)-\(day)", now: fixture.clock.now())
                _ = try await fixture.store.debit(
                    DebitRequest(licenseID: license, sessionID: "\(license)-\(day)", amountMs: amount, idempotencyKey: "\(license)-\(day)"),
                    now: fixture.clock.now())
                expectedPerDay[UTCDay(containing: fixture.clock.now()).description + license, default: 0] += amount
            }
            fixture.clock.advance(by: 86_400)
        }
        _ = try await fixture.administration.perform(.topup(minutes: 5), id: first) // a credit, not usage

        let report = try await fixture.store.usage(UsageQuery())
        #expect(report.rows.count == 6)
        for row in report.rows {
            #expect(row.usedMs == expectedPerDay[row.day + row.licenseID])
            #expect(row.sessionsStarted == 1)
        }
        for license in [first, second] {
            let counters = try #require(try await fixture.store.license(id: license))
            let fromReport = report.rows.filter { $0.licenseID == license }.reduce(0) { $0 + $1.usedMs }
            let fromLedger = try await fixture.store.ledger(licenseID: license).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
            #expect(fromReport == counters.usedMs)
            #expect(fromLedger == counters.usedMs)
            #expect(report.rows.filter { $0.licenseID == license }.reduce(0) { $0 + $1.sessionsStarted } == counters.sessionsUsed)
        }
        // The per-day counters that daily caps read agree with the ledger row for row.
        let counters = try await fixture.store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT license_id, day, used_ms FROM daily_usage").map {
                ($0["day"] as String) + ($0["license_id"] as String) + ":" + String($0["used_ms"] as Int64)
            }
        }
        #expect(Set(counters) == Set(report.rows.map { "\($0.day)\($0.licenseID):\($0.usedMs)" }))
        let oneDay = report.rows[0].day
        #expect(try await fixture.store.usage(UsageQuery(from: oneDay, to: oneDay)).rows.count == 2)
        #expect(report.csv.contains("\"Second, \"\"Quoted\"\" Ltd\""))
    }

    @Test func everyLedgerRowCarriesBalancesAndTheLedgerIsAppendOnly() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense { $0.minutes = 1 }
        _ = try await fixture.store.debit(DebitRequest(licenseID: id, sessionID: "s", amountMs: 10_000, idempotencyKey: "x"), now: fixture.clock.now())
        _ = try await fixture.administration.perform(.topup(minutes: 0.5), id: id)
        let entries = try await fixture.store.ledger(licenseID: id)
        #expect(entries.map(\.kind) == [.debit, .credit])
        #expect(entries[0].balanceBeforeMs == 60_000 && entries[0].balanceAfterMs == 50_000)
        #expect(entries[1].amountMs == 30_000 && entries[1].balanceBeforeMs == 50_000 && entries[1].balanceAfterMs == 80_000)
        #expect(entries[1].reason == "license.topup")
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.pool.write { try $0.execute(sql: "UPDATE ledger SET amount_ms = 0") }
        }
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.pool.write { try $0.execute(sql: "DELETE FROM ledger") }
        }
    }

    @Test func aSessionCountsOnceHoweverOftenItIsRecorded() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        #expect(try await fixture.store.recordSessionStart(licenseID: id, sessionID: "s1", now: fixture.clock.now()))
        #expect(try await fixture.store.recordSessionStart(licenseID: id, sessionID: "s1", now: fixture.clock.now()) == false)
        #expect(try await fixture.store.license(id: id)?.sessionsUsed == 1)
    }
}
