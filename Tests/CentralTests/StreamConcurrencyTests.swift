@testable import Central
import Foundation
import HTTPTypes
import Protocol
import Testing

/// Concurrency is the life of the stream: a lease with a live stream cannot be released from
/// under it, the license's rules hold on the stream connection and on resume, and deletion
/// bills like revocation.
@Suite(.bounded, .serialized) struct StreamConcurrencyTests {
    func token(_ reply: LiveCentral.Reply) throws -> (token: String, session: String) {
        let json = try reply.json()
        return (try #require(json["stream_token"] as? String), try #require(json["session_id"] as? String))
    }

    @Test func releasingTheLeaseBeforeTheStreamOpensRefusesTheStream() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1 }
        try await fixture.withLiveServer(provider: provider) { central in
            var clients: [StreamTestClient] = []
            for _ in 0..<5 {
                let admitted = try await central.admit(key: key)
                try #require(admitted.status == .created, "\(admitted.text)")
                let (token, session) = try token(admitted)
                #expect(try await central.edge(.delete, "/v1/sessions/\(session)", key: key).status == .noContent)
                let client = StreamTestClient(port: central.port, token: token)
                client.start()
                let error = try #require(await client.waitFor { if case .error(let e) = $0 { e } else { nil } })
                #expect(error.code == .leaseLost && error.fatal)
                clients.append(client)
            }
            #expect(provider.ledger.maxOpen <= 1)
            let live = try await central.admin(.get, "/v1/admin/sessions").json()["sessions"] as? [Any]
            #expect((live ?? []).isEmpty)
        }
    }

    @Test func deletingALiveSessionStopsAndBillsItFirst() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense { $0.concurrent = 1 }
        try await fixture.withLiveServer(provider: provider) { central in
            for _ in 0..<3 {
                let (client, started) = try await central.openStream(key: key)
                await client.stream(OpusTestAudio.frames(seconds: 1), interval: .milliseconds(5))
                _ = await client.waitFor { if case .ack(let a) = $0, a.lastSequence >= 49 { a } else { nil } }
                #expect(try await central.edge(.delete, "/v1/sessions/\(started.sessionID)", key: key).status == .noContent)
                let stopped = try #require(await client.stopped())
                #expect(stopped.reason == .clientStop)
                #expect(stopped.billedMs == provider.forwardedMs(started.sessionID))
                // The slot is free only now: the next admission succeeds, one stream at a time.
            }
            #expect(provider.ledger.maxOpen == 1)
            #expect(try await fixture.store.license(id: id)?.usedMs == provider.totalForwardedMs)
        }
    }

    /// A live stream keeps its place whatever became of its lease (lapsed while central could
    /// not checkpoint, or gone with another instance): admission counts it.
    @Test func aLiveStreamWithoutItsLeaseStillHoldsItsSlot() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.concurrent = 1; $0.devices = 2 }
        let now = fixture.clock.now()
        func admit(_ device: String) async throws -> AdmissionDecision {
            try await fixture.store.admit(
                AdmissionRequest(licenseKey: key, deviceFingerprint: device, clientIP: "127.0.0.1", holder: nil),
                keyHash: LicenseKey.hash(key), leaseTTL: 30, now: now)
        }
        guard case .admitted(let lease, _) = try await admit("device-1") else {
            Issue.record("the first admission was refused")
            return
        }
        try await fixture.store.openStreamSession(StreamSessionRecord(
            id: lease.id, licenseID: id, leaseID: lease.id, deviceFingerprint: "device-1", clientIP: "127.0.0.1",
            provider: "demo", sourceLanguage: "zh", targetLanguage: "en", status: .live, startedAt: now,
            firstAudioAt: nil, lastCheckpointAt: nil, billedMs: 0, lastSequence: -1, endedAt: nil, stopReason: nil))
        #expect(try await fixture.store.releaseLease(id: lease.id, licenseID: id))
        guard case .refused(let code, _) = try await admit("device-2") else {
            Issue.record("a second session was admitted beside a live stream")
            return
        }
        #expect(code == .concurrencyLimit)
        // The checkpoint does not revive the lease, and says so.
        let checkpoint = try await fixture.store.checkpointStreamSession(
            id: lease.id, acceptedMs: 0, lastSequence: -1, reserveMs: 2_000, leaseTTL: 30, now: now)
        #expect(!checkpoint.leaseHeld && checkpoint.reservedMs == 0)
        #expect(try await fixture.store.activeLeases(licenseID: id, now: now).isEmpty)
    }

    /// Whatever sequence of admit / delete / heartbeat / stream / resume / drop calls, no more
    /// than `max_concurrent` sessions stream at once.
    @Test func randomOperationsNeverExceedMaxConcurrent() async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true) { $0.stream.resumeWindow = 2 }
        let maxConcurrent = 2
        let (key, _) = try await fixture.createLicense { $0.concurrent = maxConcurrent; $0.devices = 5; $0.sessions = 1_000 }
        try await fixture.withLiveServer(provider: provider) { central in
            var generator = SystemRandomNumberGenerator()
            var tokens: [(token: String, session: String, device: String)] = []
            var clients: [(StreamTestClient, String, String)] = []
            var sequence: UInt32 = 0
            // The walk starts from one open stream, so that it always streams (a purely random
            // start could delete every session before one opens, and then proves nothing).
            let first = try await central.admit(key: key, device: "device-0")
            if first.status == .created {
                let (token, session) = try token(first)
                let client = StreamTestClient(port: central.port, token: token)
                client.start()
                #expect(await client.started() != nil, "the first stream did not open: \(client.messages)")
                clients.append((client, session, "device-0"))
            } else {
                Issue.record("the first admission was refused: \(first.text)")
            }
            for _ in 0..<60 {
                switch Int.random(in: 0..<7, using: &generator) {
                case 0, 1:
                    let device = "device-\(Int.random(in: 0..<5, using: &generator))"
                    let admitted = try await central.admit(key: key, device: device)
                    if admitted.status == .created {
                        let (token, session) = try token(admitted)
                        tokens.append((token, session, device))
                    }
                case 2:
                    if let pick = tokens.randomElement(using: &generator) {
                        _ = try await central.edge(.delete, "/v1/sessions/\(pick.session)", key: key)
                    } else if let pick = clients.randomElement(using: &generator) {
                        _ = try await central.edge(.delete, "/v1/sessions/\(pick.1)", key: key)
                    }
                case 3:
                    if let pick = (tokens.map(\.session) + clients.map(\.1)).randomElement(using: &generator) {
                        _ = try await central.edge(.post, "/v1/sessions/\(pick)/heartbeat", key: key)
                    }
                case 4:
                    if !tokens.isEmpty {
                        let pick = tokens.remove(at: Int.random(in: 0..<tokens.count, using: &generator))
                        let client = StreamTestClient(port: central.port, token: pick.token)
                        client.start()
                        clients.append((client, pick.session, pick.device))
                    }
                case 5:
                    if !clients.isEmpty {
                        let index = Int.random(in: 0..<clients.count, using: &generator)
                        clients[index].0.drop()
                    }
                default:
                    if let pick = clients.randomElement(using: &generator) {
                        let resume = try await central.edge(
                            .post, "/v1/sessions", key: key,
                            body: #"{"device_id":"\#(pick.2)","resume_session_id":"\#(pick.1)"}"#)
                        if resume.status == .created {
                            let (token, _) = try token(resume)
                            let client = StreamTestClient(port: central.port, token: token)
                            client.start(resume: pick.1)
                            clients.append((client, pick.1, pick.2))
                        }
                    }
                }
                for (client, _, _) in clients where !client.isClosed {
                    if let frame = OpusTestAudio.frames(seconds: 0.02, firstSequence: sequence).first { client.send(frame) }
                }
                sequence += 1
                try await Task.sleep(for: .milliseconds(30))
                let live = try await central.admin(.get, "/v1/admin/sessions").json()["sessions"] as? [Any] ?? []
                #expect(live.count <= maxConcurrent)
                #expect(provider.ledger.open <= maxConcurrent)
            }
            #expect(provider.ledger.maxOpen <= maxConcurrent, "\(provider.ledger.maxOpen) provider sessions at once")
            #expect(provider.ledger.opened > 0, "the walk never streamed")
        }
    }

    @Test func theAllowlistIsCheckedOnTheStreamConnectionAndOnResume() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.ipAllowlist = IPAllowlist(blocks: [CIDRBlock("10.0.0.0/8")].compactMap { $0 }) }
        try await fixture.withLiveServer { central in
            // Admitted from an allowed address, then the stream comes from elsewhere.
            let admitted = try await central.admit(key: key, from: "10.1.2.3")
            try #require(admitted.status == .created, "\(admitted.text)")
            let (token, _) = try token(admitted)
            let elsewhere = StreamTestClient(port: central.port, token: token, forwardedFor: "192.0.2.7")
            elsewhere.start()
            let error = try #require(await elsewhere.waitFor { if case .error(let e) = $0 { e } else { nil } })
            #expect(error.code == .ipNotAllowed)

            // A live session resumed from another address is refused too.
            let (client, started) = try await central.openStream(key: key, from: "10.1.2.3")
            client.drop()
            try await Task.sleep(for: .milliseconds(300))
            let resume = try await central.edge(
                .post, "/v1/sessions", key: key,
                body: #"{"device_id":"device-1","resume_session_id":"\#(started.sessionID)"}"#, from: "192.0.2.7")
            #expect(resume.error?.code == .ipNotAllowed, "\(resume.text)")
        }
    }

    @Test func resumingARevokedLicensesSessionSaysRevoked() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, started) = try await central.openStream(key: key)
            client.drop()
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await central.admin(.post, "/v1/admin/licenses/\(id)/revoke").status == .ok)
            let resume = try await central.edge(
                .post, "/v1/sessions", key: key,
                body: #"{"device_id":"device-1","resume_session_id":"\#(started.sessionID)"}"#)
            #expect(resume.error?.code == .licenseRevoked, "\(resume.text)")
        }
    }

    @Test(arguments: ["delete", "revoke"])
    func deletionAndRevocationBillEveryForwardedFrame(action: String) async throws {
        let provider = CountingSpeechProvider()
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer(provider: provider) { central in
            let (client, started) = try await central.openStream(key: key)
            let streaming = Task { await client.stream(OpusTestAudio.frames(seconds: 4), interval: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(2000))
            let reply = action == "delete"
                ? try await central.admin(.delete, "/v1/admin/licenses/\(id)")
                : try await central.admin(.post, "/v1/admin/licenses/\(id)/revoke")
            #expect(reply.status.code < 300, "\(reply.text)")
            let stopped = try #require(await client.stopped(timeout: .seconds(3)))
            streaming.cancel()
            #expect(stopped.reason == (action == "delete" ? .licenseNotFound : .licenseRevoked))
            let forwarded = provider.forwardedMs(started.sessionID)
            #expect(forwarded > 0)
            #expect(stopped.billedMs == forwarded, "billed \(stopped.billedMs) of \(forwarded) ms forwarded")
            let ledger = try await fixture.store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
            #expect(ledger == forwarded)
        }
    }
}
