@testable import Central
import Foundation
import Protocol
import Testing

/// The ledger as every store must keep it, billed the only way the product bills: through
/// stream checkpoints.
@Suite(.bounded, .postgresTestScope) struct LedgerConformanceTests {
    @Test(arguments: StoreFactory.all)
    func replayingACheckpointChangesNothing(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.minutes = 10 }
        let stream = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        let first = try await stream.checkpoint(acceptedMs: 2_345, now: s.now)
        let second = try await stream.checkpoint(acceptedMs: 2_345, now: s.now)
        #expect(first.appliedMs == 2_345 && first.billedMs == 2_345)
        #expect(second.appliedMs == 0 && second.billedMs == 2_345 && second.license?.usedMs == 2_345)
        #expect(try await s.license(id).usedMs == 2_345)
        #expect(try await s.store.ledger(licenseID: id).filter { $0.kind == .debit }.count == 1)
    }

    /// A checkpoint names the watermark it bills up to, so two checkpoints can never claim one
    /// idempotency key for different amounts: a conflict is impossible by construction, and a
    /// watermark that goes back (or below zero) simply bills nothing.
    @Test(arguments: StoreFactory.all)
    func idempotencyConflictsAreImpossibleByConstruction(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let one = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        let two = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        _ = try await one.checkpoint(acceptedMs: 100, now: s.now)
        #expect(try await one.checkpoint(acceptedMs: 50, now: s.now).appliedMs == 0)
        #expect(try await one.checkpoint(acceptedMs: -1, now: s.now).appliedMs == 0)
        #expect(try await one.checkpoint(acceptedMs: 300, now: s.now).appliedMs == 200)
        // Another session reaching the same watermark is another debit.
        #expect(try await two.checkpoint(acceptedMs: 100, now: s.now).appliedMs == 100)
        let debits = try await s.store.ledger(licenseID: id).filter { $0.kind == .debit }
        #expect(debits.map(\.amountMs) == [100, 200, 100])
        #expect(debits.map(\.sessionID) == [one.id, one.id, two.id])
        #expect(Set(debits.map(\.idempotencyKey)).count == 3)
        #expect(try await s.license(id).usedMs == 400)
    }

    /// The ledger never passes the limit: not for audio beyond the session's reservation, and not
    /// inside a reservation an operator has since cut below.
    @Test(arguments: StoreFactory.all)
    func aCheckpointNeverBillsPastTheLimit(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.minutes = 1 } // 60 000 ms
        let clipped = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
            .checkpoint(acceptedMs: 70_000, now: s.now)
        #expect(clipped.appliedMs == 60_000 && clipped.billedMs == 60_000 && clipped.license?.usedMs == 60_000)
        #expect(clipped.quota?.blockedBy == .minutesExhausted)
        let nothing = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
            .checkpoint(acceptedMs: 5_000, now: s.now)
        #expect(nothing.appliedMs == 0 && nothing.license?.usedMs == 60_000)

        let (key, other) = try await s.createLicense { $0.minutes = 1 }
        let stream = try await s.stream(key, licenseID: other)
        let held = try await stream.checkpoint(acceptedMs: 0, reserveMs: 2_000, now: s.now)
        #expect(held.reservedMs == 2_000)
        _ = try await s.store.modifyLicense(
            id: other, action: "license.update", detail: "minutes", actor: AdminOperator(name: "op", ip: nil), now: s.now
        ) { $0.limitMs = 500 }
        let cut = try await stream.checkpoint(acceptedMs: 1_500, reserveMs: 2_000, now: s.now)
        #expect(cut.appliedMs == 500 && cut.reservedMs == 0 && cut.license?.usedMs == 500)
        #expect(try await s.debitedMs(other) == 500)
    }

    /// Many sessions checkpointed concurrently from several connections, each one twice at the
    /// same watermark: every session billed and counted exactly once.
    @Test(arguments: StoreFactory.all)
    func concurrentCheckpointsFromSeveralConnectionsSumExactly(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.minutes = 1_000; $0.sessions = 1_000 }
        let connections = try await s.connections(3)
        var streams: [MeteredStream] = []
        for _ in 0..<45 { streams.append(try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)) }
        let now = s.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<90 {
                let connection = connections[index % connections.count]
                let stream = streams[index % streams.count]
                group.addTask { _ = try await stream.checkpoint(acceptedMs: 777, now: now, via: connection) }
            }
            try await group.waitForAll()
        }
        let license = try await s.license(id)
        #expect(license.usedMs == 45 * 777)
        #expect(license.sessionsUsed == 45)
        #expect(try await s.debitedMs(id) == 45 * 777)
        #expect(try await s.store.ledger(licenseID: id).filter { $0.kind == .sessionStart }.count == 45)
    }

    @Test(arguments: StoreFactory.all)
    func usagePerDayEqualsTheLedgerAndTheCounters(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        // Daily caps high enough never to bind, so the quota shows each day's counter.
        let (_, first) = try await s.createLicense { $0.minutes = 100; $0.dailyMinutes = 100 }
        let (_, second) = try await s.createLicense { $0.minutes = 100; $0.dailyMinutes = 100; $0.customerName = "Second, \"Quoted\" Ltd" }
        var expectedPerDay: [String: Int64] = [:]
        for day in 0..<3 {
            for (index, license) in [first, second].enumerated() {
                let amount = Int64(1_001 * (day + 1) + index * 17)
                // Two checkpoints of one session a day: billed in parts, counted once.
                let stream = try await MeteredStream.open(on: s.store, licenseID: license, now: s.now)
                _ = try await stream.checkpoint(acceptedMs: amount / 2, now: s.now)
                _ = try await stream.checkpoint(acceptedMs: amount, now: s.now)
                try await stream.close(now: s.now)
                expectedPerDay[UTCDay(containing: s.now).description + license, default: 0] += amount
                // What daily caps read agrees with the ledger.
                let quota = try await s.store.quota(for: try await s.license(license), now: s.now)
                #expect(quota.dailyRemainingSeconds == Milliseconds.seconds(6_000_000 - amount))
            }
            s.clock.advance(by: 86_400)
        }
        _ = try await s.administration.perform(.topup(minutes: 5), id: first) // a credit, not usage

        let report = try await s.store.usage(UsageQuery())
        #expect(report.rows.count == 6)
        for row in report.rows {
            #expect(row.usedMs == expectedPerDay[row.day + row.licenseID])
            #expect(row.sessionsStarted == 1 && row.debits == 2)
        }
        for license in [first, second] {
            let counters = try await s.license(license)
            let fromReport = report.rows.filter { $0.licenseID == license }.reduce(0) { $0 + $1.usedMs }
            #expect(fromReport == counters.usedMs)
            #expect(try await s.debitedMs(license) == counters.usedMs)
            #expect(report.rows.filter { $0.licenseID == license }.reduce(0) { $0 + $1.sessionsStarted } == counters.sessionsUsed)
            #expect(try await s.store.usage(UsageQuery(licenseID: license)).rows == report.rows.filter { $0.licenseID == license })
        }
        let oneDay = report.rows[0].day
        #expect(try await s.store.usage(UsageQuery(from: oneDay, to: oneDay)).rows.count == 2)
        #expect(try await s.store.usage(UsageQuery(from: report.rows[2].day)).rows.count == 4)
        #expect(report.rows.first { $0.licenseID == second }?.customerName == "Second, \"Quoted\" Ltd")
        #expect(report.csv.contains("\"Second, \"\"Quoted\"\" Ltd\""))
    }

    /// Every row says what the balance was before and after; later activity only appends.
    @Test(arguments: StoreFactory.all)
    func everyLedgerRowCarriesBalancesAndTheLedgerOnlyGrows(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense { $0.minutes = 1 }
        let stream = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        _ = try await stream.checkpoint(acceptedMs: 10_000, now: s.now)
        _ = try await s.administration.perform(.topup(minutes: 0.5), id: id)
        let entries = try await s.store.ledger(licenseID: id)
        #expect(entries.map(\.kind) == [.sessionStart, .debit, .credit])
        #expect(entries[0].amountMs == 0 && entries[0].balanceBeforeMs == 60_000 && entries[0].balanceAfterMs == 60_000)
        #expect(entries[1].balanceBeforeMs == 60_000 && entries[1].balanceAfterMs == 50_000)
        #expect(entries[1].reason == "metered_audio" && entries[1].sessionID == stream.id)
        #expect(entries[2].amountMs == 30_000 && entries[2].balanceBeforeMs == 50_000 && entries[2].balanceAfterMs == 80_000)
        #expect(entries[2].reason == "license.topup" && entries[2].sessionID == nil)
        #expect(entries.allSatisfy { $0.day == UTCDay(containing: s.now).description && $0.licenseID == id })
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.sequence < $1.sequence })

        s.clock.advance(by: 86_400)
        _ = try await stream.checkpoint(acceptedMs: 25_000, now: s.now)
        _ = try await s.administration.perform(.topup(minutes: 1), id: id)
        let later = try await s.store.ledger(licenseID: id)
        #expect(Array(later.prefix(entries.count)) == entries)
        #expect(later.dropFirst(entries.count).map(\.kind) == [.debit, .credit])
        // Each row starts where the one before it ended.
        #expect(zip(later, later.dropFirst()).allSatisfy { $0.balanceAfterMs == $1.balanceBeforeMs })
    }

    @Test(arguments: StoreFactory.all)
    func aSessionCountsOnceAtItsFirstAudioHoweverOftenItIsCheckpointed(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let stream = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        #expect(try await stream.checkpoint(acceptedMs: 0, now: s.now).countedSession == false)
        #expect(try await s.license(id).sessionsUsed == 0)
        #expect(try await stream.checkpoint(acceptedMs: 20, now: s.now).countedSession)
        for accepted in [20, 40, 60] as [Int64] {
            #expect(try await stream.checkpoint(acceptedMs: accepted, now: s.now).countedSession == false)
        }
        #expect(try await s.license(id).sessionsUsed == 1)
        #expect(try await s.store.ledger(licenseID: id).filter { $0.kind == .sessionStart }.count == 1)
        #expect(try await s.store.usage(UsageQuery(licenseID: id)).rows.first?.sessionsStarted == 1)
    }
}
