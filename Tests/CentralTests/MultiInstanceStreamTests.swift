import AsyncHTTPClient
@testable import Central
import Foundation
import NIOCore
import Protocol
import Testing

/// Real `central` processes sharing one PostgreSQL database behind a real nginx: a stream token
/// from one instance opens the stream on another; an operator's change on one reaches a stream
/// on another; a `kill -9` of the instance carrying a stream loses nothing billed (the edge
/// resumes through the load balancer on a survivor, same session) and leaks no lease (the
/// survivors settle what it left).
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct MultiInstanceStreamTests {
    /// A 16 s lease TTL: instances lapse after 8 s without a heartbeat.
    static let environment = ["LEASE_TTL_SECONDS": "16"]

    static func grant(_ reply: LiveCentral.Reply) throws -> (session: String, token: String) {
        let object = try reply.json()
        return (try #require(object["session_id"] as? String, "\(reply.text)"), try #require(object["stream_token"] as? String))
    }

    @Test func aTokenFromOneInstanceOpensOnAnotherAndAdminChangesAnywhereReachIt() async throws {
        try await CentralCluster.with(instances: 3, environment: Self.environment) { cluster in
            let (key, id) = try await cluster.createLicense()
            let admitted = try await cluster.admit(key: key, device: "edge-1", via: cluster.instanceURLs[0])
            #expect(admitted.status == .created)
            let (sessionID, token) = try Self.grant(admitted)

            // Admitted on the first instance, streamed on the third.
            let client = StreamTestClient(port: cluster.instances[2].port, token: token)
            client.start()
            let started = try #require(await client.started())
            #expect(started.sessionID == sessionID && !started.resumed)
            await client.stream(OpusTestAudio.frames(seconds: 1), interval: .milliseconds(20))
            #expect(try await cluster.store.streamSession(id: sessionID)?.owner == CentralCluster.instanceID(2))
            // The token worked once: on the second instance it is refused.
            let replay = StreamTestClient(port: cluster.instances[1].port, token: token)
            replay.start()
            let refusal = await replay.waitFor { message -> ErrorCode? in
                if case .error(let error) = message { error.code } else { nil }
            }
            #expect(refusal == .invalidMessage)

            // A top-up on the first instance reaches the stream on the third at once (NOTIFY,
            // then a checkpoint and its quota push; at worst the next tick). The bound here is
            // loose: CI runs every suite at once on two cores.
            let before = try #require(try await cluster.store.license(id: id)).limitMs
            let toppedUp = ContinuousClock.now
            let topUp = try await cluster.admin(.post, cluster.instanceURLs[0], "/v1/admin/licenses/\(id)/topup", body: #"{"minutes":5}"#)
            #expect(topUp.status == .ok, "\(topUp.text)")
            let pushed = await client.waitFor(timeout: .seconds(5)) {
                if case .quota(let q) = $0, q.quota.secondsLimit * 1000 >= Double(before + 300_000) { ContinuousClock.now } else { nil }
            }
            let topUpDelay = try #require(pushed) - toppedUp
            #expect(topUpDelay < .seconds(2), "top-up reached the stream after \(topUpDelay)")

            // A revoke through the balancer stops it within 2 s, billed.
            let revoked = ContinuousClock.now
            #expect(try await cluster.admin(.post, cluster.balancer.url, "/v1/admin/licenses/\(id)/revoke").status == .ok)
            let stopped = try #require(await client.stopped(timeout: .seconds(5)))
            let revokeDelay = ContinuousClock.now - revoked
            #expect(stopped.reason == .licenseRevoked)
            #expect(revokeDelay < .seconds(2), "revoke reached the stream after \(revokeDelay)")
            let record = try #require(try await cluster.store.streamSession(id: sessionID))
            #expect(record.status == .closed && record.stopReason == .licenseRevoked)
            #expect(stopped.billedMs == 1_000 && record.billedMs == 1_000)
            #expect(try await cluster.store.license(id: id)?.usedMs == 1_000)
            #expect(try await cluster.store.activeLeaseCount(now: Date()) == 0)
        }
    }

    @Test func anOperatorStopsASessionServedByAnotherInstance() async throws {
        try await CentralCluster.with(instances: 2, environment: Self.environment) { cluster in
            let (key, id) = try await cluster.createLicense()
            let (_, token) = try Self.grant(try await cluster.admit(key: key, device: "edge-1", via: cluster.instanceURLs[1]))
            let client = StreamTestClient(port: cluster.instances[1].port, token: token)
            client.start()
            let started = try #require(await client.started())
            await client.stream(OpusTestAudio.frames(seconds: 0.6), interval: .milliseconds(20))
            // Listed by the other instance, with its owner.
            let listed = try await cluster.admin(.get, cluster.instanceURLs[0], "/v1/admin/sessions").json()
            let sessions = try #require(listed["sessions"] as? [[String: Any]])
            #expect(sessions.map { $0["instance"] as? String } == [CentralCluster.instanceID(1)])
            let asked = ContinuousClock.now
            let stop = try await cluster.admin(.delete, cluster.instanceURLs[0], "/v1/admin/sessions/\(started.sessionID)")
            #expect(stop.status == .accepted, "\(stop.text)")
            let stopped = try #require(await client.stopped(timeout: .seconds(5)))
            #expect(stopped.reason == .stoppedByAdmin)
            #expect(ContinuousClock.now - asked < .seconds(2))
            #expect(stopped.billedMs == 600)
            #expect(try await cluster.store.license(id: id)?.usedMs == 600)
            let audit = try await cluster.store.audit(AuditQuery(licenseID: id))
            #expect(audit.contains { $0.action == "session.stop" && $0.detail == started.sessionID })
            let instances = try await cluster.admin(.get, cluster.instanceURLs[0], "/v1/admin/instances").json()
            let listedInstances = try #require(instances["instances"] as? [[String: Any]])
            #expect(listedInstances.map { $0["id"] as? String } == [CentralCluster.instanceID(0), CentralCluster.instanceID(1)])
            #expect(listedInstances.map { $0["current"] as? Bool } == [true, false])
        }
    }

    @Test func aResumeOnAnotherInstanceWhileTheOldOneLivesBillsOnce() async throws {
        try await CentralCluster.with(instances: 2, environment: Self.environment) { cluster in
            let (key, id) = try await cluster.createLicense()
            let frames = OpusTestAudio.frames(seconds: 4)
            let (sessionID, token) = try Self.grant(try await cluster.admit(key: key, device: "edge-1", via: cluster.instanceURLs[0]))
            let old = StreamTestClient(port: cluster.instances[0].port, token: token)
            old.start()
            #expect(await old.started() != nil)
            await old.stream(Array(frames[..<100]), interval: .milliseconds(20))
            _ = await old.waitFor { if case .quota(let q) = $0, (q.sessionBilledMs ?? 0) >= 1_000 { q } else { nil } }
            // The edge thinks its connection is dead (it is not) and resumes on the other instance.
            let resumed = try await cluster.admit(key: key, device: "edge-1", via: cluster.instanceURLs[1], resume: sessionID)
            #expect(resumed.status == .ok, "\(resumed.text)")
            let again = StreamTestClient(port: cluster.instances[1].port, token: try Self.grant(resumed).token)
            again.start(resume: sessionID)
            let continued = try #require(await again.started())
            let next = Int(continued.nextSequence)
            #expect(continued.resumed && next >= 50 && next <= 100, "resumed at \(next)")
            // The first instance learns at its next checkpoint and drops its stale connection,
            // without `stopped` and without billing.
            #expect(await eventually(within: .seconds(5)) { old.isClosed })
            #expect(!old.messages.contains { if case .stopped = $0 { true } else { false } })
            await again.stream(Array(frames[next...]), interval: .milliseconds(20))
            again.send(.stop(StopMessage()))
            let stopped = try #require(await again.stopped())
            #expect(stopped.billedMs == 4_000)
            let record = try #require(try await cluster.store.streamSession(id: sessionID))
            #expect(record.owner == CentralCluster.instanceID(1) && record.status == .closed && record.billedMs == 4_000)
            #expect(try await cluster.store.license(id: id)?.usedMs == 4_000)
            #expect(try await cluster.store.license(id: id)?.sessionsUsed == 1)
            #expect(try await cluster.store.activeLeaseCount(now: Date()) == 0)
        }
    }

    @Test func aRollingRestartHandsAStreamToAnotherInstance() async throws {
        try await CentralCluster.with(instances: 2, environment: Self.environment) { cluster in
            let (key, id) = try await cluster.createLicense()
            let frames = OpusTestAudio.frames(seconds: 4)
            let draining = cluster.instances[0]
            let (sessionID, token) = try Self.grant(try await cluster.admit(key: key, device: "edge-1", via: cluster.balancer.url))
            let client = StreamTestClient(port: draining.port, token: token)
            client.start()
            #expect(await client.started() != nil)
            await client.stream(Array(frames[..<100]), interval: .milliseconds(20))
            try await Task.sleep(for: .milliseconds(300))
            // SIGTERM with another instance alive: the stream is billed to its last frame and its
            // connection closes without `stopped`, so the edge resumes.
            #expect(draining.stop() == 0)
            #expect(await eventually { client.isClosed })
            #expect(!client.messages.contains { if case .stopped = $0 { true } else { false } })
            #expect(try await cluster.store.streamSession(id: sessionID)?.billedMs == 2_000)

            let resumed = try await cluster.admit(key: key, device: "edge-1", via: cluster.balancer.url, resume: sessionID)
            #expect(resumed.status == .ok, "\(resumed.text)")
            let again = StreamTestClient(port: cluster.balancer.port, token: try Self.grant(resumed).token)
            again.start(resume: sessionID)
            let continued = try #require(await again.started())
            #expect(continued.sessionID == sessionID && continued.resumed && continued.nextSequence == 100)
            await again.stream(Array(frames[100...]), interval: .milliseconds(20))
            again.send(.stop(StopMessage()))
            let stopped = try #require(await again.stopped())
            #expect(stopped.reason == .clientStop && stopped.billedMs == 4_000)
            let record = try #require(try await cluster.store.streamSession(id: sessionID))
            #expect(record.owner == CentralCluster.instanceID(1) && record.billedMs == 4_000)
            #expect(try await cluster.store.license(id: id)?.usedMs == 4_000)
            #expect(try await cluster.store.activeLeaseCount(now: Date()) == 0)
        }
    }

    @Test func killingTheInstanceCarryingAStreamLosesNothingBilledAndLeaksNoLease() async throws {
        try await CentralCluster.with(instances: 3, environment: Self.environment) { cluster in
            let (key, id) = try await cluster.createLicense { $0.concurrent = 2; $0.devices = 2 }
            let frames = OpusTestAudio.frames(seconds: 4)
            let doomed = cluster.instances[1]
            // Two sessions on the second instance: one will resume elsewhere, the other's edge
            // never comes back.
            let (sessionID, token) = try Self.grant(try await cluster.admit(key: key, device: "edge-1", via: cluster.balancer.url))
            let client = StreamTestClient(port: doomed.port, token: token)
            client.start()
            #expect(await client.started() != nil)
            let (orphanID, orphanToken) = try Self.grant(try await cluster.admit(key: key, device: "edge-2", via: cluster.balancer.url))
            let orphan = StreamTestClient(port: doomed.port, token: orphanToken)
            orphan.start()
            #expect(await orphan.started() != nil)
            await orphan.stream(OpusTestAudio.frames(seconds: 1), interval: .milliseconds(20))

            await client.stream(Array(frames[..<100]), interval: .milliseconds(20))
            _ = await client.waitFor { if case .quota(let q) = $0, (q.sessionBilledMs ?? 0) >= 1_000 { q } else { nil } }
            doomed.kill()
            let killed = ContinuousClock.now

            // The edge resumes through the balancer (which passes over the dead instance): same
            // session, from the stored next sequence.
            let resumed = try await cluster.admit(key: key, device: "edge-1", via: cluster.balancer.url, resume: sessionID)
            #expect(resumed.status == .ok, "\(resumed.text)")
            let again = StreamTestClient(port: cluster.balancer.port, token: try Self.grant(resumed).token)
            again.start(resume: sessionID)
            let first = await again.started()
            let outcome = first == nil ? "\(await again.connection.result)" : ""
            let continued = try #require(first, "\(again.messages) \(outcome) \(cluster.balancer.errorLog)")
            #expect(continued.sessionID == sessionID && continued.resumed)
            let next = Int(continued.nextSequence)
            #expect(next >= 50 && next <= 100, "resumed at \(next)")
            // It replays what the dead instance never checkpointed, then the rest.
            await again.stream(Array(frames[next...]), interval: .milliseconds(20))
            again.send(.stop(StopMessage()))
            let stopped = try #require(await again.stopped())
            #expect(stopped.reason == .clientStop && stopped.billedMs == 4_000)
            let record = try #require(try await cluster.store.streamSession(id: sessionID))
            #expect(record.status == .closed && record.billedMs == 4_000)
            #expect(record.owner != CentralCluster.instanceID(1))

            // The orphan is settled by a survivor within the lease TTL, billed to its last checkpoint.
            var settled: StreamSessionRecord?
            _ = try await eventually(within: .seconds(16)) {
                settled = try await cluster.store.streamSession(id: orphanID)
                return settled?.status == .closed
            }
            #expect(settled?.stopReason == .instanceLost, "\(String(describing: settled))")
            #expect(ContinuousClock.now - killed < .seconds(16))
            let orphanBilled = settled?.billedMs ?? -1
            #expect(orphanBilled >= 0 && orphanBilled <= 1_000)
            #expect(try await cluster.store.license(id: id)?.usedMs == 4_000 + orphanBilled)
            #expect(try await cluster.store.activeLeaseCount(now: Date()) == 0)
            let ledger = try await cluster.store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
            #expect(ledger == 4_000 + orphanBilled)
            // The usage report, from any instance, says the same; and the survivor counted both sessions once.
            let report = try await cluster.admin(.get, cluster.balancer.url, "/v1/admin/usage?license_id=\(id)").json()
            #expect((report["total_ms"] as? Int).map(Int64.init) == ledger, "\(report)")
            let rows = try #require(report["rows"] as? [[String: Any]])
            #expect(rows.compactMap { $0["sessions_started"] as? Int }.reduce(0, +) == 2)
            #expect(try await cluster.store.license(id: id)?.sessionsUsed == 2)
        }
    }
}
