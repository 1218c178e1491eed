import AsyncHTTPClient
@testable import Central
import Foundation
import NIOCore
import Protocol
import Testing

/// Killing the real central process mid-stream loses at most the checkpoint interval and
/// leaves no open lease once it is back.
@Suite(.bounded) struct CrashRecoveryTests {
    @Test func killingCentralMidStreamLosesAtMostTheCheckpointInterval() async throws {
        let fixture = try CentralFixture(realTime: true)
        let (key, id) = try await fixture.createLicense()
        let port = CentralProcess.freePort()
        let first = try CentralProcess(databasePath: fixture.databasePath, port: port, adminToken: CentralFixture.adminToken)
        defer { first.stop() }
        try await first.waitUntilServing()

        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/sessions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.body = .bytes(ByteBuffer(string: #"{"device_id":"crash-edge"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 16)
        #expect(response.status.code == 201)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        let token = try #require(object["stream_token"] as? String)
        let sessionID = try #require(object["session_id"] as? String)

        let client = StreamTestClient(port: port, token: token)
        client.start()
        #expect(await client.started() != nil)
        // 3 s of audio at real-time pace; central checkpoints about every second meanwhile.
        await client.stream(OpusTestAudio.frames(seconds: 3), interval: .milliseconds(20))
        _ = await client.waitFor { if case .quota(let q) = $0, (q.sessionBilledMs ?? 0) >= 2_000 { q } else { nil } }
        first.kill()

        let crashed = try #require(try await fixture.store.streamSession(id: sessionID))
        #expect(crashed.status == .live)
        #expect(try await fixture.store.activeLeaseCount(now: Date()) == 1)

        let second = try CentralProcess(databasePath: fixture.databasePath, port: port, adminToken: CentralFixture.adminToken)
        defer { second.stop() }
        try await second.waitUntilServing()
        // Checkpointed a moment before the crash, so its edge might have resumed it on another
        // instance: the restarted one settles it once the instance lapse (10 s) has passed.
        #expect(try await eventually(within: .seconds(30)) {
            try await fixture.store.streamSession(id: sessionID)?.status == .closed
        })
        let settled = try #require(try await fixture.store.streamSession(id: sessionID))
        #expect(settled.status == .closed && settled.stopReason == .serverRestart)
        #expect(try await fixture.store.activeLeaseCount(now: Date()) == 0)
        let used = try #require(try await fixture.store.license(id: id)).usedMs
        #expect(used >= 3_000 - 2_000 && used <= 3_000, "billed \(used) ms of 3000")
        #expect(used == settled.billedMs)
        // The slot is free again.
        let again = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await again.body.collect(upTo: 1 << 16)
        #expect(again.status.code == 201)
    }
}
