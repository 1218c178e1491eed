@testable import Central
import Foundation
import Protocol
import Testing

/// `MeteringStore`: stream sessions and their checkpoints (billing, reservations, leases), as
/// every store must keep them under the concurrency of a live central.
@Suite(.bounded, .postgresTestScope) struct MeteringStoreConformanceTests {
    @Test(arguments: StoreFactory.all)
    func aSessionOpensCheckpointsAndCloses(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        let stream = try await s.stream(key, licenseID: id)
        #expect(try await s.store.streamSession(id: stream.id) == stream.record)
        #expect(try await s.store.liveStreamSessions() == [stream.record])
        #expect(try await s.store.liveStreamSession(leaseID: stream.record.leaseID) == stream.record)
        #expect(try await s.store.streamSession(id: "sess_unknown") == nil)

        s.clock.advance(by: 20)
        let result = try await stream.checkpoint(acceptedMs: 1_000, reserveMs: 2_000, now: s.now)
        #expect(result.billedMs == 1_000 && result.appliedMs == 1_000 && result.reservedMs == 2_000)
        #expect(result.countedSession && result.leaseHeld)
        #expect(result.license?.usedMs == 1_000 && result.quota?.concurrentInUse == 1)
        var record = try #require(try await s.store.streamSession(id: stream.id))
        #expect(record.billedMs == 1_000 && record.lastSequence == 49)
        #expect(record.firstAudioAt == s.now && record.lastCheckpointAt == s.now && record.status == .live)
        // The checkpoint renewed the lease from now.
        s.clock.advance(by: 20)
        let lease = try #require(try await s.store.activeLeases(licenseID: id, now: s.now).first)
        #expect(lease.id == stream.record.leaseID)
        // The sequence number never goes back.
        _ = try await s.store.checkpointStreamSessions(
            [CheckpointRequest(sessionID: stream.id, acceptedMs: 1_000, lastSequence: 3, reserveMs: 2_000, leaseTTL: 30)],
            now: s.now)
        #expect(try await s.store.streamSession(id: stream.id)?.lastSequence == 49)
        try await s.store.recordProviderUsage(sessionID: stream.id, usage: ProviderUsage(audioMs: 1_020, reportedSeconds: 2))

        try await stream.close(.clientStop, now: s.now)
        record = try #require(try await s.store.streamSession(id: stream.id))
        #expect(record.status == .closed && record.stopReason == .clientStop && record.endedAt == s.now)
        #expect(record.billedMs == 1_000 && record.firstAudioAt != nil)
        // Closing drops the lease; closing again changes nothing.
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).isEmpty)
        #expect(try await s.store.liveStreamSessions().isEmpty)
        #expect(try await s.store.liveStreamSession(leaseID: stream.record.leaseID) == nil)
        s.clock.advance(by: 5)
        try await stream.close(.serverRestart, now: s.now)
        #expect(try await s.store.streamSession(id: stream.id) == record)
        // A closed session is granted nothing.
        let late = try await stream.checkpoint(acceptedMs: 1_000, reserveMs: 2_000, now: s.now)
        #expect(late.reservedMs == 0 && !late.leaseHeld && late.appliedMs == 0)
    }

    /// The counts beside the bill add up per instance's account, and the report's query finds
    /// sessions by the UTC day they started and by license.
    @Test(arguments: StoreFactory.all)
    func theCountsBesideTheBillAddUpAndSessionsAreFoundByDayAndLicense(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        let stream = try await s.stream(key, licenseID: id)
        let day = UTCDay(containing: s.now).description
        try await s.store.recordProviderUsage(
            sessionID: stream.id, usage: ProviderUsage(audioMs: 1_000, reportedSeconds: 1, reportedTokens: 40, translationTokens: 7))
        try await s.store.recordProviderUsage(
            sessionID: stream.id,
            usage: ProviderUsage(audioMs: 500, reportedSeconds: 1, reportedTokens: 2, translationTokens: 3, edgeSentMs: 1_480))
        let record = try #require(try await s.store.streamSession(id: stream.id))
        #expect(record.providerAudioMs == 1_500 && record.providerReportedSeconds == 2 && record.providerReportedTokens == 42)
        #expect(record.translationTokens == 10 && record.edgeSentMs == 1_480)
        #expect(try await s.store.streamSessions(UsageQuery(from: day, to: day), limit: 10).map(\.id) == [stream.id])
        #expect(try await s.store.streamSessions(UsageQuery(licenseID: id), limit: 10).map(\.id) == [stream.id])
        #expect(try await s.store.streamSessions(UsageQuery(licenseID: "lic_other"), limit: 10).isEmpty)
        let next = UTCDay(index: UTCDay(containing: s.now).index + 1).description
        #expect(try await s.store.streamSessions(UsageQuery(from: next), limit: 10).isEmpty)
        #expect(try await s.store.streamSessions(UsageQuery(to: day), limit: 0).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func closingGivesTheReservationBackToTheLicense(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.minutes = 3.0 / 60; $0.concurrent = 2 }
        let first = try await s.stream(key, licenseID: id, device: "a")
        let second = try await s.stream(key, licenseID: id, device: "b")
        #expect(try await first.checkpoint(acceptedMs: 0, reserveMs: 2_000, now: s.now).reservedMs == 1_500)
        // What the first holds is not the second's to spend.
        #expect(try await second.checkpoint(acceptedMs: 0, reserveMs: 2_000, now: s.now).reservedMs == 750)
        try await first.close(now: s.now)
        #expect(try await second.checkpoint(acceptedMs: 0, reserveMs: 2_000, now: s.now).reservedMs == 1_500)
        // A checkpoint asking for nothing gives its reservation back too.
        let third = try await s.stream(key, licenseID: id, device: "a")
        #expect(try await second.checkpoint(acceptedMs: 0, reserveMs: 0, now: s.now).reservedMs == 0)
        #expect(try await third.checkpoint(acceptedMs: 0, reserveMs: 2_000, now: s.now).reservedMs == 1_500)
    }

    /// A checkpoint renews only a lease that still exists: a released or lapsed one is not
    /// revived, and the session is told (it must stop) while its audio is still billed.
    @Test(arguments: StoreFactory.all)
    func aCheckpointRenewsOnlyALeaseThatStillExists(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 2; $0.devices = 2 }
        let released = try await s.stream(key, licenseID: id, device: "a")
        let lapsed = try await s.stream(key, licenseID: id, device: "b")
        #expect(try await s.store.releaseLease(id: released.record.leaseID, licenseID: id))
        let afterRelease = try await released.checkpoint(acceptedMs: 400, reserveMs: 2_000, now: s.now)
        #expect(!afterRelease.leaseHeld && afterRelease.reservedMs == 0 && afterRelease.appliedMs == 400)
        s.clock.advance(by: s.leaseTTL + 1)
        let afterLapse = try await lapsed.checkpoint(acceptedMs: 600, reserveMs: 2_000, now: s.now)
        #expect(!afterLapse.leaseHeld && afterLapse.reservedMs == 0 && afterLapse.appliedMs == 600)
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).isEmpty)
        // Both streams are live still, so both slots stay taken until they close.
        #expect(try await s.admit(key, device: "a").refusalCode == .concurrencyLimit)
        try await released.close(.leaseLost, now: s.now)
        #expect(try await s.admit(key, device: "a").refusalCode == nil)
    }

    @Test(arguments: StoreFactory.all)
    func settlingAfterACrashClosesEveryLiveSessionAtItsLastCheckpoint(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 3; $0.devices = 3 }
        let quiet = try await s.stream(key, licenseID: id, device: "a", owner: "central-a")
        let busy = try await s.stream(key, licenseID: id, device: "b", owner: "central-a")
        let done = try await s.stream(key, licenseID: id, device: "c", owner: "central-a")
        s.clock.advance(by: 10)
        _ = try await busy.checkpoint(acceptedMs: 3_000, reserveMs: 2_000, now: s.now)
        let checkpointed = s.now
        try await done.close(.clientStop, now: s.now)
        let closed = try await s.store.streamSession(id: done.id)
        s.clock.advance(by: 60)

        // The instance starts again: what its last run left open is settled.
        try await s.store.heartbeatInstance(id: "central-a", now: s.now)
        #expect(try await s.store.settleStreamSessions(
            instance: "central-a", restarting: true, lapsedBefore: s.now.addingTimeInterval(-10), now: s.now) == 2)
        let settledQuiet = try #require(try await s.store.streamSession(id: quiet.id))
        let settledBusy = try #require(try await s.store.streamSession(id: busy.id))
        #expect(settledQuiet.status == .closed && settledQuiet.stopReason == .serverRestart)
        #expect(settledQuiet.endedAt == quiet.record.startedAt)
        #expect(settledBusy.stopReason == .serverRestart && settledBusy.endedAt == checkpointed && settledBusy.billedMs == 3_000)
        #expect(try await s.store.streamSession(id: done.id) == closed)
        #expect(try await s.store.liveStreamSessions().isEmpty)
        #expect(try await s.store.activeLeaseCount(now: s.now) == 0)
        #expect(try await s.license(id).usedMs == 3_000)
        #expect(try await s.store.settleStreamSessions(
            instance: "central-a", restarting: true, lapsedBefore: s.now.addingTimeInterval(-10), now: s.now) == 0)
    }

    @Test(arguments: StoreFactory.all)
    func theDailyCapBindsTheBillAndTheReservation(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.minutes = 60; $0.dailyMinutes = 5.0 / 60 }
        let stream = try await s.stream(key, licenseID: id)
        let opened = try await stream.checkpoint(acceptedMs: 0, reserveMs: 2_000, now: s.now)
        #expect(opened.reservedMs == 2_000 && opened.limitedBy == .dailyLimitReached)
        // Audio beyond the reservation is billed only as far as today's allowance goes.
        // (The lease is renewed for two days, so it still holds tomorrow.)
        let capped = try await stream.checkpoint(acceptedMs: 7_000, reserveMs: 2_000, leaseTTL: 2 * 86_400, now: s.now)
        #expect(capped.appliedMs == 5_000 && capped.reservedMs == 0 && capped.limitedBy == .dailyLimitReached)
        #expect(capped.quota?.blockedBy == .dailyLimitReached && capped.quota?.dailyRemainingSeconds == 0)
        // Tomorrow's allowance is whole again.
        s.clock.advance(by: 86_400)
        let tomorrow = try await stream.checkpoint(acceptedMs: 7_000, reserveMs: 2_000, now: s.now)
        #expect(tomorrow.appliedMs == 2_000 && tomorrow.reservedMs == 1_500 && tomorrow.quota?.canStream == true)
        let usage = try await s.store.usage(UsageQuery(licenseID: id))
        #expect(usage.rows.map(\.usedMs) == [5_000, 2_000])
    }

    @Test(arguments: StoreFactory.all)
    func aBatchNamingAnUnknownSessionOmitsIt(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        let one = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        let two = try await MeteredStream.open(on: s.store, licenseID: id, now: s.now)
        let unknown = CheckpointRequest(sessionID: "sess_unknown", acceptedMs: 5_000, lastSequence: 249, reserveMs: 2_000, leaseTTL: 30)
        let results = try await s.store.checkpointStreamSessions(
            [one.request(acceptedMs: 100), unknown, two.request(acceptedMs: 200)], now: s.now)
        #expect(Set(results.keys) == [one.id, two.id])
        #expect(results[one.id]?.appliedMs == 100 && results[two.id]?.appliedMs == 200)
        #expect(try await s.license(id).usedMs == 300)
        #expect(try await s.store.checkpointStreamSessions([], now: s.now).isEmpty)
        await #expect(throws: StoreError.self) {
            _ = try await s.store.checkpointStreamSession(
                id: "sess_unknown", acceptedMs: 0, lastSequence: -1, reserveMs: 0, leaseTTL: 30, now: s.now)
        }
    }

    /// The group commit decides exactly what checkpointing each session on its own (in the same
    /// order) decides, across licenses sharing one batch: reservations, bills, caps, first-audio
    /// counts, lost leases and deleted licenses alike.
    @Test(arguments: StoreFactory.all)
    func aBatchAcrossLicensesDecidesAsOneByOne(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let batched = try await checkpointWorld(s)
        let single = try await checkpointWorld(s)
        var batchedLast = [CheckpointOutcome?](repeating: nil, count: batched.count)
        var singleLast = batchedLast
        for round in 0..<8 {
            let reserve: Int64 = round == 7 ? 0 : 2_000
            func accepted(_ index: Int, after last: CheckpointOutcome?) -> Int64 {
                let billed = last?.billedMs ?? 0
                let held = last?.reservedMs ?? 0
                switch (round + index) % 4 {
                case 0: return billed + held // everything it holds
                case 1: return billed + held + 700 // more than it holds
                case 2: return billed // a replay
                default: return billed + held / 2
                }
            }
            var requests = batched.indices.map { batched[$0].request(acceptedMs: accepted($0, after: batchedLast[$0]), reserveMs: reserve) }
            requests.insert(CheckpointRequest(sessionID: "sess_unknown", acceptedMs: 1_000, lastSequence: 49, reserveMs: reserve, leaseTTL: 30), at: 3)
            let results = try await s.store.checkpointStreamSessions(requests, now: s.now)
            #expect(results.count == batched.count)
            for index in single.indices {
                let alone = try await single[index].checkpoint(
                    acceptedMs: accepted(index, after: singleLast[index]), reserveMs: reserve, now: s.now)
                let inBatch = try #require(results[batched[index].id]).outcome
                #expect(inBatch == alone.outcome, "round \(round), session \(index)")
                batchedLast[index] = inBatch
                singleLast[index] = alone.outcome
            }
            s.clock.advance(by: 1)
        }
        // The two worlds' ledgers tell the same story, license by license.
        func licenses(_ streams: [MeteredStream]) -> [String] {
            streams.map(\.licenseID).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        }
        for (a, b) in zip(licenses(batched), licenses(single)) {
            let ledgers = (try await s.store.ledger(licenseID: a), try await s.store.ledger(licenseID: b))
            #expect(ledgers.0.map(\.kind) == ledgers.1.map(\.kind))
            #expect(ledgers.0.map(\.amountMs) == ledgers.1.map(\.amountMs))
            #expect(ledgers.0.map(\.balanceAfterMs) == ledgers.1.map(\.balanceAfterMs))
        }
        // The walk reached the cases it is meant to compare.
        let outcomes = batchedLast.compactMap { $0 }
        #expect(outcomes.contains { !$0.leaseHeld } && outcomes.contains { $0.usedMs == nil })
    }

    /// Many sessions of one license checkpoint concurrently from several connections, in batches
    /// of several sessions each, each sending everything it holds: every forwarded millisecond is
    /// billed, no result ever promises more than the balance, and the license ends exactly spent.
    @Test(arguments: StoreFactory.all, [ErrorCode.minutesExhausted, .dailyLimitReached])
    func parallelSessionsOfOneLicenseNeverSpendMoreThanItsBalance(_ factory: StoreFactory, binding: ErrorCode) async throws {
        let s = try await factory.make()
        let sessions = 24
        let budgetMs: Int64 = 40_000
        let (key, id) = try await s.createLicense {
            $0.minutes = binding == .minutesExhausted ? 40.0 / 60 : 600
            $0.dailyMinutes = binding == .dailyLimitReached ? 40.0 / 60 : nil
            $0.concurrent = sessions
            $0.devices = sessions
            $0.sessions = 1_000
        }
        var streams: [MeteredStream] = []
        for index in 0..<sessions { streams.append(try await s.stream(key, licenseID: id, device: "device-\(index)")) }
        // Groups of one to four sessions; each group is one task checkpointing its sessions in one batch a round.
        var groups: [[MeteredStream]] = []
        var rest = streams[...]
        while !rest.isEmpty {
            let size = groups.count % 4 + 1
            groups.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        let connections = try await s.connections(3)
        let now = s.now
        let spent = try await withThrowingTaskGroup(of: [GreedySender].self) { group in
            for (index, members) in groups.enumerated() {
                let connection = connections[index % connections.count]
                group.addTask {
                    var senders = members.map { GreedySender(stream: $0) }
                    var rounds = 0
                    while senders.contains(where: \.running), rounds < 1_000 {
                        rounds += 1
                        let running = senders.indices.filter { senders[$0].running }
                        for index in running { senders[index].forward() }
                        let results = try await connection.checkpointStreamSessions(
                            running.map { senders[$0].request }, now: now)
                        for index in running { senders[index].take(results[senders[index].stream.id], budgetMs: budgetMs) }
                        await Task.yield()
                    }
                    return senders
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        for stream in streams { try await stream.close(binding, now: s.now) }
        #expect(spent.count == sessions)
        #expect(spent.allSatisfy { !$0.running }, "a session never stopped")
        #expect(spent.flatMap(\.violations).isEmpty, "\(spent.flatMap(\.violations).prefix(5))")
        #expect(spent.allSatisfy { $0.stoppedBy == binding })
        let license = try await s.license(id)
        #expect(license.usedMs == budgetMs, "spent \(license.usedMs) of \(budgetMs) ms")
        #expect(spent.reduce(0) { $0 + $1.acceptedMs } == budgetMs)
        #expect(try await s.debitedMs(id) == budgetMs)
        #expect(license.sessionsUsed == spent.filter { $0.acceptedMs > 0 }.count)
    }

    /// Eight sessions over four licenses: a small total, a daily cap, a released lease, a deleted
    /// license; interleaved so no two neighbours in a batch share a license.
    private func checkpointWorld(_ s: StoreUnderTest) async throws -> [MeteredStream] {
        let small = try await s.createLicense { $0.minutes = 10.0 / 60; $0.concurrent = 3; $0.devices = 3 }
        let daily = try await s.createLicense { $0.minutes = 60; $0.dailyMinutes = 5.0 / 60; $0.concurrent = 2; $0.devices = 2 }
        let tiny = try await s.createLicense { $0.minutes = 3.0 / 60; $0.concurrent = 2; $0.devices = 2 }
        let doomed = try await s.createLicense()
        func open(_ license: (key: String, id: String), _ device: String) async throws -> MeteredStream {
            try await s.stream(license.key, licenseID: license.id, device: device)
        }
        let streams = [
            try await open(small, "a"), try await open(daily, "a"), try await open(tiny, "a"), try await open(small, "b"),
            try await open(doomed, "a"), try await open(daily, "b"), try await open(tiny, "b"), try await open(small, "c"),
        ]
        #expect(try await s.store.releaseLease(id: streams[6].record.leaseID, licenseID: tiny.id))
        try await s.administration.deleteLicense(id: doomed.id)
        return streams
    }
}
