@testable import Central
import Foundation
import HTTPTypes
import Protocol
import Testing

/// The live stream against a live central on a free port with a real SQLite file.
@Suite(.bounded, .serialized) struct StreamTests {
    static func stoppedAfterStop(_ client: StreamTestClient) async throws -> StoppedMessage {
        client.send(.stop(StopMessage()))
        return try #require(await client.stopped(), "no stopped: \(client.messages.suffix(3))")
    }

    @Test(arguments: [0.5, 3.0, 65.0])
    func billedMillisecondsEqualTheAudioSent(seconds: Double) async throws {
        // 65 s of audio goes in about 7 s: lift the pace allowance so only metering is under test.
        let fixture = try CentralFixture(realTime: true) { $0.stream.paceAllowanceMs = 120_000 }
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, started) = try await central.openStream(key: key)
            #expect(started.provider.demo && !started.resumed && started.nextSequence == 0)
            let frames = OpusTestAudio.frames(seconds: seconds)
            // Faster than real time but paced, so the demo provider's queue never fills.
            await client.stream(frames, interval: seconds > 10 ? .milliseconds(2) : nil)
            let stopped = try await Self.stoppedAfterStop(client)
            let sentMs = Int64(seconds * 1000)
            #expect(stopped.reason == .clientStop)
            #expect(abs(stopped.billedMs - sentMs) <= 20, "billed \(stopped.billedMs) for \(sentMs)")
            let license = try #require(try await fixture.store.license(id: id))
            #expect(license.usedMs == stopped.billedMs)
            #expect(license.sessionsUsed == 1)
            let ledger = try await fixture.store.ledger(licenseID: id).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
            #expect(ledger == stopped.billedMs)
            #expect(try await fixture.store.activeLeaseCount(now: Date()) == 0)
            // The demo really listened: tone bursts became segments.
            let transcripts = client.messages.compactMap { if case .transcript(let r) = $0, r.final { r } else { nil } }
            #expect(seconds < 1 || transcripts.allSatisfy { $0.text.hasPrefix("[demo] speech") })
            #expect(seconds < 3 || !transcripts.isEmpty)
        }
    }

    @Test func aSessionWithoutAudioIsNotCharged() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            let stopped = try await Self.stoppedAfterStop(client)
            #expect(stopped.billedMs == 0)
            #expect(try await fixture.store.license(id: id)?.sessionsUsed == 0)
        }
    }

    @Test func exhaustionStopsTheStreamAtTheLimit() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense { $0.minutes = 0.05 } // 3 s
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            await client.stream(OpusTestAudio.frames(seconds: 5), interval: .milliseconds(2))
            let stopped = try #require(await client.stopped())
            #expect(stopped.reason == .minutesExhausted)
            #expect(stopped.billedMs == 3_000)
            #expect(try await fixture.store.license(id: id)?.usedMs == 3_000)
            let warnings = Set(client.messages.compactMap { if case .quota(let q) = $0 { q.warning } else { nil } })
            #expect(!warnings.isEmpty)
            // A new admission is refused with the same code.
            #expect(try await central.admit(key: key).error?.code == .minutesExhausted)
        }
    }

    @Test func revocationEndsALiveStreamWithinTwoSeconds() async throws {
        let fixture = try CentralFixture(realTime: true) { $0.stream.tickInterval = .milliseconds(900) }
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 10)
            let streaming = Task { await client.stream(frames, interval: .milliseconds(20)) }
            try await Task.sleep(for: .seconds(1))
            let revokedAt = ContinuousClock.now
            #expect(try await central.admin(.post, "/v1/admin/licenses/\(id)/revoke").status == .ok)
            let stopped = try #require(await client.stopped(timeout: .seconds(3)))
            let elapsed = ContinuousClock.now - revokedAt
            streaming.cancel()
            #expect(stopped.reason == .licenseRevoked)
            #expect(elapsed < .seconds(2), "took \(elapsed)")
        }
    }

    @Test func quotaIsPushedEverySecondAndAfterATopUp() async throws {
        let fixture = try CentralFixture(realTime: true) { $0.stream.tickInterval = .milliseconds(900) }
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            let streaming = Task { await client.stream(OpusTestAudio.frames(seconds: 3), interval: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(2_500))
            let quotas = client.messages.compactMap { if case .quota(let q) = $0 { q } else { nil } }
            #expect(quotas.count >= 2)
            #expect(quotas.allSatisfy { $0.provider?.demo == true })
            let toppedUpAt = ContinuousClock.now
            #expect(try await central.admin(.post, "/v1/admin/licenses/\(id)/topup", body: #"{"minutes":10}"#).status == .ok)
            let raised = await client.waitFor(timeout: .seconds(2)) { message -> QuotaMessage? in
                if case .quota(let q) = message, q.quota.secondsLimit == 4_200 { q } else { nil }
            }
            #expect(raised != nil)
            #expect(ContinuousClock.now - toppedUpAt < .seconds(1))
            streaming.cancel()
        }
    }

    @Test func ofTwoRacingEdgesOneStreamsAndTheOtherIsRefused() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1; $0.devices = 2 }
        try await fixture.withLiveServer { central in
            async let first = central.admit(key: key, device: "edge-a")
            async let second = central.admit(key: key, device: "edge-b")
            let replies = try await [first, second]
            #expect(replies.filter { $0.status == .created }.count == 1)
            #expect(replies.filter { $0.error?.code == .concurrencyLimit }.count == 1)
            let winner = try #require(replies.first { $0.status == .created })
            let client = StreamTestClient(port: central.port, token: try #require(try winner.json()["stream_token"] as? String))
            client.start()
            #expect(await client.started() != nil)
            await client.stream(OpusTestAudio.frames(seconds: 1))
            #expect(try await Self.stoppedAfterStop(client).billedMs == 1_000)
        }
    }

    @Test func aVanishedEdgeIsStoppedAndItsSlotFreed() async throws {
        let fixture = try CentralFixture(realTime: true) { $0.stream.edgeTimeout = 1 }
        let (key, _) = try await fixture.createLicense { $0.concurrent = 1 }
        try await fixture.withLiveServer { central in
            let (client, _) = try await central.openStream(key: key)
            await client.stream(OpusTestAudio.frames(seconds: 0.4))
            // Then silence: no frames, no heartbeat, socket left open.
            #expect(try await central.admit(key: key).error?.code == .concurrencyLimit)
            let stopped = try #require(await client.stopped(timeout: .seconds(4)))
            #expect(stopped.reason == .edgeTimeout && stopped.billedMs == 400)
            let again = try await central.admit(key: key)
            #expect(again.status == .created, "\(again.text)")
        }
    }

    @Test func resumeContinuesTheSameSessionWithoutDoubleCharge() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (first, started) = try await central.openStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 2)
            await first.stream(Array(frames[0..<50]))
            _ = await first.waitFor { if case .ack(let a) = $0, a.lastSequence == 49 { a } else { nil } }
            first.drop()
            try await Task.sleep(for: .milliseconds(300))

            // Re-admission for the same session: no concurrency slot, no new session.
            let resumed = try await central.edge(
                .post, "/v1/sessions", key: key, body: #"{"device_id":"device-1","resume_session_id":"\#(started.sessionID)"}"#)
            #expect(resumed.status == .ok, "\(resumed.text)")
            let second = StreamTestClient(port: central.port, token: try #require(try resumed.json()["stream_token"] as? String))
            second.start(resume: started.sessionID)
            let again = try #require(await second.started())
            #expect(again.resumed && again.sessionID == started.sessionID && again.nextSequence == 50)
            // The edge replays a little before the resume point (duplicates) and goes on.
            await second.stream(Array(frames[40..<100]))
            let stopped = try await Self.stoppedAfterStop(second)
            #expect(stopped.billedMs == 2_000)
            let license = try #require(try await fixture.store.license(id: id))
            #expect(license.usedMs == 2_000 && license.sessionsUsed == 1)

            let foreign = try await central.edge(
                .post, "/v1/sessions", key: key, body: #"{"device_id":"device-1","resume_session_id":"\#(started.sessionID)"}"#)
            #expect(foreign.status == .conflict && foreign.error?.code == .sessionNotResumable)
        }
    }

    @Test func aResumeTakesOverAConnectionThatIsStillOpen() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (old, started) = try await central.openStream(key: key)
            let frames = OpusTestAudio.frames(seconds: 1)
            await old.stream(Array(frames[0..<25]))
            _ = await old.waitFor { if case .ack(let a) = $0, a.lastSequence == 24 { a } else { nil } }
            // The edge believes its link died, but central still sees the old socket open.
            let resumed = try await central.edge(
                .post, "/v1/sessions", key: key, body: #"{"device_id":"device-1","resume_session_id":"\#(started.sessionID)"}"#)
            let fresh = StreamTestClient(port: central.port, token: try #require(try resumed.json()["stream_token"] as? String))
            fresh.start(resume: started.sessionID)
            #expect(await fresh.started()?.nextSequence == 25)
            #expect(await old.waitFor { _ in old.isClosed ? true : nil } == true)
            await fresh.stream(Array(frames[25..<50]))
            let stopped = try await Self.stoppedAfterStop(fresh)
            #expect(stopped.billedMs == 1_000)
            #expect(try await fixture.store.license(id: id)?.sessionsUsed == 1)
        }
    }

    @Test func garbageGetsProtocolErrorsWhileOtherStreamsCarryOn() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (keyA, _) = try await fixture.createLicense()
        let (keyB, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (a, _) = try await central.openStream(key: keyA)
            let (b, _) = try await central.openStream(key: keyB)
            let streamingB = Task { await b.stream(OpusTestAudio.frames(seconds: 2), interval: .milliseconds(5)) }
            a.sendRaw(bytes: [0xFF, 0x00, 0x13])
            a.sendRaw(bytes: [UInt8](repeating: 0x01, count: 3_000))
            a.sendRaw(text: "{not json")
            a.sendRaw(text: #"{"type":"teleport","v":1}"#)
            a.sendRaw(text: #"{"type":"ack","v":7}"#)
            var lying = try #require(OpusTestAudio.frames(seconds: 0.02).first).encoded()
            lying[11] = 0x01
            a.sendRaw(bytes: lying)
            a.send(.start(StartMessage(sourceLanguage: "en", targetLanguage: nil)))
            let codes = await a.waitFor { _ -> [ErrorCode]? in
                let codes = a.errors.map(\.code)
                return codes.count >= 7 ? codes : nil
            }
            #expect(codes == [.malformedFrame, .frameTooLarge, .malformedMessage, .unknownMessageType, .unsupportedVersion, .malformedFrame, .unexpectedMessage])
            #expect(a.errors.allSatisfy { !$0.fatal })
            // A keeps working after its garbage.
            await a.stream(OpusTestAudio.frames(seconds: 1))
            #expect(try await Self.stoppedAfterStop(a).billedMs == 1_000)
            await streamingB.value
            #expect(try await Self.stoppedAfterStop(b).billedMs == 2_000)
            let metrics = try await central.request(.get, "/metrics").text
            #expect(PrometheusText(metrics).value("central_stream_frames_total", ["outcome": "rejected"]) == 7,
                    "\(metrics.split(separator: "\n").filter { $0.contains("frames") })")
        }
    }

    @Test func operatorsSeeLiveSessionsAndCanStopThem() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let (client, started) = try await central.openStream(key: key, device: "edge-7")
            await client.stream(OpusTestAudio.frames(seconds: 0.5))
            _ = await client.waitFor { if case .ack = $0 { true } else { nil } }
            let listing = try await central.admin(.get, "/v1/admin/sessions").json()
            let sessions = try #require(listing["sessions"] as? [[String: Any]])
            #expect(sessions.count == 1)
            #expect(sessions.first?["session_id"] as? String == started.sessionID)
            #expect(sessions.first?["license_id"] as? String == id)
            #expect(sessions.first?["device_fingerprint"] as? String == "edge-7")
            #expect(sessions.first?["provider"] as? String == "demo")
            #expect(try await central.admin(.delete, "/v1/admin/sessions/\(started.sessionID)").status == .ok)
            let stopped = try #require(await client.stopped())
            #expect(stopped.reason == .stoppedByAdmin && stopped.billedMs == 500)
            let after = try await central.admin(.get, "/v1/admin/sessions").json()
            #expect((after["sessions"] as? [Any])?.isEmpty == true)
            #expect(try await central.admin(.delete, "/v1/admin/sessions/\(started.sessionID)").status == .notFound)
        }
    }

    @Test func aStreamTokenWorksOnceAndTheFirstMessageMustBeStart() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, _) = try await fixture.createLicense { $0.concurrent = 2 }
        try await fixture.withLiveServer { central in
            let admitted = try await central.admit(key: key)
            let token = try #require(try admitted.json()["stream_token"] as? String)
            let wrongFirst = StreamTestClient(port: central.port, token: token)
            wrongFirst.send(.heartbeat(HeartbeatMessage(sentAt: Date())))
            let error = await wrongFirst.waitFor { if case .error(let e) = $0 { e } else { nil } }
            #expect(error?.code == .unexpectedMessage && error?.fatal == true)
            _ = await wrongFirst.waitFor { _ in wrongFirst.isClosed ? true : nil }
            // The token is spent, and the refused start gave the lease back.
            let reused = StreamTestClient(port: central.port, token: token)
            reused.start()
            let refused = await reused.waitFor { if case .error(let e) = $0 { e } else { nil } }
            #expect(refused?.fatal == true, "closed: \(reused.isClosed), messages: \(reused.messages)")
            #expect(try await fixture.store.activeLeaseCount(now: Date()) == 0)
        }
    }
}
