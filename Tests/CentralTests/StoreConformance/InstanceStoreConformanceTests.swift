@testable import Central
import Foundation
import Protocol
import Testing

/// Several central instances on one store: heartbeats, who owns a live session, settling what a
/// lapsed instance left, a session taken over by another instance, a stop asked for through the
/// store, and stream tickets redeemed once by whichever instance.
@Suite(.bounded, .postgresTestScope) struct InstanceStoreConformanceTests {
    static let lapse: TimeInterval = 10

    func settle(_ s: StoreUnderTest, as instance: String, restarting: Bool) async throws -> Int {
        try await s.store.settleStreamSessions(
            instance: instance, restarting: restarting, lapsedBefore: s.now.addingTimeInterval(-Self.lapse), now: s.now)
    }

    @Test(arguments: StoreFactory.all)
    func instancesHeartbeatAndCountTheirLiveSessions(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let started = s.now
        try await s.store.heartbeatInstance(id: "central-b", now: s.now)
        try await s.store.heartbeatInstance(id: "central-a", now: s.now)
        let (key, id) = try await s.createLicense { $0.concurrent = 2; $0.devices = 2 }
        _ = try await s.stream(key, licenseID: id, device: "x", owner: "central-a")
        s.clock.advance(by: 5)
        try await s.store.heartbeatInstance(id: "central-a", now: s.now)
        #expect(try await s.store.instances() == [
            InstanceRecord(id: "central-a", startedAt: started, heartbeatAt: s.now, liveSessions: 1),
            InstanceRecord(id: "central-b", startedAt: started, heartbeatAt: started, liveSessions: 0),
        ])
        try await s.store.removeInstance(id: "central-b")
        #expect(try await s.store.instances().map(\.id) == ["central-a"])
    }

    @Test(arguments: StoreFactory.all)
    func aSweepSettlesOnlyLapsedInstancesSessions(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 4; $0.devices = 4 }
        for instance in ["central-a", "central-b", "central-c"] {
            try await s.store.heartbeatInstance(id: instance, now: s.now)
        }
        let onA = try await s.stream(key, licenseID: id, device: "a", owner: "central-a")
        let onB = try await s.stream(key, licenseID: id, device: "b", owner: "central-b")
        let onC = try await s.stream(key, licenseID: id, device: "c", owner: "central-c")
        let unowned = try await s.stream(key, licenseID: id, device: "d")
        _ = try await onC.checkpoint(acceptedMs: 4_000, reserveMs: 2_000, owner: "central-c", now: s.now)
        let checkpointed = s.now

        // Everyone heartbeats: nothing lapsed, nothing to settle.
        #expect(try await settle(s, as: "central-a", restarting: false) == 0)
        // c stops heartbeating; a and b go on.
        s.clock.advance(by: Self.lapse + 1)
        try await s.store.heartbeatInstance(id: "central-a", now: s.now)
        try await s.store.heartbeatInstance(id: "central-b", now: s.now)
        #expect(try await settle(s, as: "central-a", restarting: false) == 1)
        let settled = try #require(try await s.store.streamSession(id: onC.id))
        #expect(settled.status == .closed && settled.stopReason == .instanceLost)
        #expect(settled.billedMs == 4_000 && settled.endedAt == checkpointed)
        #expect(try await s.license(id).usedMs == 4_000)
        // Its lease went with it; the others' stay (and a second sweep finds nothing).
        #expect(Set(try await s.store.activeLeases(licenseID: id, now: s.now).map(\.id))
            == Set([onA, onB, unowned].map(\.record.leaseID)))
        #expect(try await settle(s, as: "central-b", restarting: false) == 0)
        // A sweep never settles its own sessions or unowned ones, even when its own heartbeat
        // lapsed (the database was away): the others settle it if it is really gone.
        s.clock.advance(by: Self.lapse + 1)
        try await s.store.heartbeatInstance(id: "central-b", now: s.now)
        #expect(try await settle(s, as: "central-a", restarting: false) == 0)
        #expect(try await s.store.streamSession(id: unowned.id)?.status == .live)
        // b sweeps: a lapsed.
        #expect(try await settle(s, as: "central-b", restarting: false) == 1)
        #expect(try await s.store.streamSession(id: onA.id)?.stopReason == .instanceLost)
        #expect(try await s.store.streamSession(id: onB.id)?.status == .live)
    }

    @Test(arguments: StoreFactory.all)
    func aRestartSettlesItsOwnUnownedAndLapsedSessionsButNotTheLiveInstances(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 5; $0.devices = 5 }
        for instance in ["central-a", "central-b", "central-c"] {
            try await s.store.heartbeatInstance(id: instance, now: s.now)
        }
        let onA = try await s.stream(key, licenseID: id, device: "a", owner: "central-a")
        let onB = try await s.stream(key, licenseID: id, device: "b", owner: "central-b")
        let onC = try await s.stream(key, licenseID: id, device: "c", owner: "central-c")
        let unowned = try await s.stream(key, licenseID: id, device: "d")
        s.clock.advance(by: Self.lapse + 1)
        // a's previous run checkpointed this one just before it died: its edge may be resuming
        // elsewhere, so a restart leaves it for now.
        let freshOnA = try await s.stream(key, licenseID: id, device: "e", owner: "central-a")
        _ = try await freshOnA.checkpoint(acceptedMs: 1_000, owner: "central-a", now: s.now)
        // a comes back (c never does); b went on heartbeating.
        try await s.store.heartbeatInstance(id: "central-a", now: s.now)
        try await s.store.heartbeatInstance(id: "central-b", now: s.now)
        #expect(try await settle(s, as: "central-a", restarting: true) == 3)
        #expect(try await s.store.streamSession(id: onA.id)?.stopReason == .serverRestart)
        #expect(try await s.store.streamSession(id: unowned.id)?.stopReason == .serverRestart)
        #expect(try await s.store.streamSession(id: onC.id)?.stopReason == .instanceLost)
        #expect(Set(try await s.store.liveStreamSessions().map(\.id)) == [onB.id, freshOnA.id])
        // Nobody resumed it: once the lapse has passed, the restarted instance settles it too.
        s.clock.advance(by: Self.lapse + 1)
        try await s.store.heartbeatInstance(id: "central-a", now: s.now)
        try await s.store.heartbeatInstance(id: "central-b", now: s.now)
        #expect(try await settle(s, as: "central-a", restarting: true) == 1)
        #expect(try await s.store.streamSession(id: freshOnA.id)?.stopReason == .serverRestart)
        #expect(try await s.store.liveStreamSessions().map(\.id) == [onB.id])
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).map(\.id) == [onB.record.leaseID])
    }

    @Test(arguments: StoreFactory.all)
    func aTakenOverSessionIsBilledOnceFromItsWatermark(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        let stream = try await s.stream(key, licenseID: id, owner: "central-a")
        let first = try await stream.checkpoint(acceptedMs: 3_000, reserveMs: 2_000, owner: "central-a", now: s.now)
        #expect(first.billedMs == 3_000 && first.reservedMs == 2_000 && !first.movedAway)

        // The edge resumes on b: b takes the session over where the store has it.
        s.clock.advance(by: 2)
        let other = try await s.anotherConnection()
        let taken = try #require(try await other.takeOverStreamSession(id: stream.id, owner: "central-b", now: s.now))
        #expect(taken.owner == "central-b" && taken.billedMs == 3_000 && taken.lastSequence == 149 && taken.status == .live)
        // a, still alive, checkpoints what it had accepted meanwhile: not billed, not renewed, told it moved.
        let stale = try await stream.checkpoint(acceptedMs: 3_600, reserveMs: 2_000, owner: "central-a", now: s.now)
        #expect(stale.movedAway && !stale.leaseHeld && stale.appliedMs == 0 && stale.reservedMs == 0)
        #expect(MeteringPolicy.stop(after: stale, clientIP: "198.51.100.7", now: s.now)?.0 == .sessionMoved)
        #expect(try await s.license(id).usedMs == 3_000)
        // a's close changes nothing: the session is b's.
        try await stream.close(.serverShutdown, owner: "central-a", now: s.now)
        #expect(try await s.store.streamSession(id: stream.id)?.status == .live)
        // b goes on from the watermark (the edge replays what a never had checkpointed).
        let next = try await stream.checkpoint(acceptedMs: 4_000, reserveMs: 2_000, owner: "central-b", now: s.now, via: other)
        #expect(next.billedMs == 4_000 && next.appliedMs == 1_000 && next.leaseHeld && !next.movedAway)
        try await stream.close(.clientStop, owner: "central-b", now: s.now)
        let closed = try #require(try await s.store.streamSession(id: stream.id))
        #expect(closed.status == .closed && closed.stopReason == .clientStop && closed.billedMs == 4_000)
        #expect(try await s.license(id).usedMs == 4_000)
        #expect(try await s.store.activeLeaseCount(now: s.now) == 0)
        // A closed session cannot be taken over.
        #expect(try await other.takeOverStreamSession(id: stream.id, owner: "central-c", now: s.now) == nil)
    }

    @Test(arguments: StoreFactory.all)
    func aStopAskedForThroughTheStoreReachesTheOwnersNextCheckpoint(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (key, id) = try await s.createLicense()
        let stream = try await s.stream(key, licenseID: id, owner: "central-c")
        let other = try await s.anotherConnection()
        let asked = try await other.requestStreamSessionStop(id: stream.id, reason: .stoppedByAdmin, now: s.now)
        #expect(asked?.id == stream.id && asked?.owner == "central-c")
        // The owner still bills what it forwarded, and is told to stop.
        let result = try await stream.checkpoint(acceptedMs: 1_000, reserveMs: 2_000, owner: "central-c", now: s.now)
        #expect(result.stopRequested == .stoppedByAdmin && result.billedMs == 1_000)
        #expect(MeteringPolicy.stop(after: result, clientIP: "198.51.100.7", now: s.now)?.0 == .stoppedByAdmin)
        try await stream.close(.stoppedByAdmin, owner: "central-c", now: s.now)
        #expect(try await other.requestStreamSessionStop(id: stream.id, reason: .stoppedByAdmin, now: s.now) == nil)
        #expect(try await s.license(id).usedMs == 1_000)
    }

    @Test(arguments: StoreFactory.all)
    func aStreamTicketIsRedeemedOnceByWhicheverInstance(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let ticket = StreamTicket(
            sessionID: "lease_1", licenseID: "lic_1", leaseID: "lease_1", deviceFingerprint: "device-1",
            clientIP: "198.51.100.7", resume: false, expiresAt: s.now.addingTimeInterval(30))
        try await s.store.issueStreamTicket(ticket, tokenHash: "hash-1", now: s.now)
        let others = try await [s.anotherConnection(), s.anotherConnection(), s.anotherConnection()]
        // Racing redemptions on three connections: exactly one gets it.
        let redeemed = try await withThrowingTaskGroup(of: StreamTicket?.self) { group in
            for store in others + [s.store] {
                group.addTask { try await store.redeemStreamTicket(tokenHash: "hash-1", now: s.now) }
            }
            return try await group.reduce(into: [StreamTicket]()) { all, next in if let next { all.append(next) } }
        }
        #expect(redeemed == [ticket])
        #expect(try await s.store.redeemStreamTicket(tokenHash: "hash-unknown", now: s.now) == nil)
        // An expired ticket does not open a stream, and the next issue sweeps it away.
        var resume = ticket
        resume.resume = true
        try await s.store.issueStreamTicket(resume, tokenHash: "hash-2", now: s.now)
        s.clock.advance(by: 31)
        #expect(try await others[0].redeemStreamTicket(tokenHash: "hash-2", now: s.now) == nil)
        resume.expiresAt = s.now.addingTimeInterval(30)
        try await s.store.issueStreamTicket(resume, tokenHash: "hash-3", now: s.now)
        #expect(try await others[1].redeemStreamTicket(tokenHash: "hash-3", now: s.now) == resume)
    }
}
