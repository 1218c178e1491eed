import AsyncHTTPClient
@testable import Central
import Foundation
import NIOCore
import Protocol
import Testing

/// The database goes away under a live stream (a partition between central and PostgreSQL):
/// `/readyz` says so, the stream goes on within what it had reserved and then ends with a code,
/// and once the database is back its last audio is billed and its lease freed — never unbilled.
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct DatabaseOutageTests {
    static func readiness(_ port: Int) async -> UInt? {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) else { return nil }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return response.status.code
    }

    /// `POST /v1/sessions`, waiting longer than the store's connection wait (an outage answers
    /// 503 after it): the status and the JSON answer.
    static func admit(port: Int, key: String, device: String) async throws -> (UInt, [String: Any]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/sessions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"device_id":"\#(device)"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 1 << 16)
        return (response.status.code, (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any] ?? [:])
    }

    @Test func aStreamOutlivesAnOutageBoundedAndIsBilledOnceTheDatabaseIsBack() async throws {
        let settings = try await PostgresTestServer.createDatabase()
        let store = PostgresCentralStore(client: await PostgresTestServer.client(settings), logger: PostgresTestServer.logger)
        try await store.migrate()
        let administration = StoreLicenseAdministration(
            store: store, clock: SystemWallClock(), actor: AdminOperator(name: "test", ip: nil))
        let (key, id) = try await TestLicense.create(with: administration)
        let proxy = try TCPFaultProxy(target: "\(settings.host):\(settings.port)")
        defer { proxy.stop() }
        var viaProxy = settings
        viaProxy.port = proxy.port
        let central = try CentralProcess(
            databaseURL: viaProxy.description, port: CentralProcess.freePort(), adminToken: CentralFixture.adminToken,
            environment: ["CENTRAL_INSTANCE_ID": "central-outage"])
        defer { central.stop() }
        try await central.waitUntilServing()
        #expect(await Self.readiness(central.port) == 200)

        let (_, grant) = try await Self.admit(port: central.port, key: key, device: "edge-1")
        let sessionID = try #require(grant["session_id"] as? String)
        let client = StreamTestClient(port: central.port, token: try #require(grant["stream_token"] as? String))
        client.start()
        #expect(await client.started() != nil)
        let frames = OpusTestAudio.frames(seconds: 20)
        await client.stream(Array(frames[..<50]), interval: .milliseconds(20))
        _ = await client.waitFor { if case .quota(let q) = $0, (q.sessionBilledMs ?? 0) >= 1_000 { q } else { nil } }

        proxy.partition()
        let sender = Task { await client.stream(Array(frames[50...]), interval: .milliseconds(20)) }
        defer { sender.cancel() }
        #expect(await eventually(within: .seconds(15)) { await Self.readiness(central.port) == 503 })
        // It ends with a code within a bounded time: what it reserved, then a few failed asks
        // (about 15 s; the bound leaves room for a loaded machine).
        let stopped = try #require(await client.stopped(timeout: .seconds(40)))
        #expect(stopped.reason == .unavailable, "\(stopped)")
        sender.cancel()
        let sent = Int64(frames.count) * 20
        // Admission says so too, after the pool's connection wait (10 s), and takes nothing.
        let asked = ContinuousClock.now
        let (refused, body) = try await Self.admit(port: central.port, key: key, device: "edge-2")
        #expect(refused == 503 && (body["error"] as? [String: Any])?["code"] as? String == "unavailable", "\(body)")
        #expect(ContinuousClock.now - asked < .seconds(15))

        proxy.heal()
        #expect(await eventually(within: .seconds(30)) { await Self.readiness(central.port) == 200 })
        // Billed once it is back: closed, its lease freed, the license charged exactly that.
        var record: StreamSessionRecord?
        #expect(try await eventually(within: .seconds(40)) {
            record = try await store.streamSession(id: sessionID)
            return record?.status == .closed
        })
        let billed = record?.billedMs ?? -1
        #expect(record?.stopReason == .unavailable)
        #expect(billed > 1_000 && billed <= sent, "billed \(billed) ms")
        #expect(try await store.license(id: id)?.usedMs == billed)
        #expect(try await store.activeLeaseCount(now: Date()) == 0)
    }

    /// SIGTERM while the database is unreachable: nothing can be billed, so the shutdown cannot
    /// finish; central exits by itself after SHUTDOWN_GRACE_SECONDS instead of waiting for TCP
    /// to give up, and its next start settles the session it left, as after a crash.
    @Test func aShutdownWithTheDatabaseUnreachableEndsWithinItsGrace() async throws {
        let settings = try await PostgresTestServer.createDatabase()
        let store = PostgresCentralStore(client: await PostgresTestServer.client(settings), logger: PostgresTestServer.logger)
        try await store.migrate()
        let administration = StoreLicenseAdministration(
            store: store, clock: SystemWallClock(), actor: AdminOperator(name: "test", ip: nil))
        let (key, id) = try await TestLicense.create(with: administration)
        let proxy = try TCPFaultProxy(target: "\(settings.host):\(settings.port)")
        defer { proxy.stop() }
        var viaProxy = settings
        viaProxy.port = proxy.port
        let environment = ["CENTRAL_INSTANCE_ID": "central-grace", "SHUTDOWN_GRACE_SECONDS": "3"]
        let port = CentralProcess.freePort()
        let central = try CentralProcess(
            databaseURL: viaProxy.description, port: port, adminToken: CentralFixture.adminToken, environment: environment)
        defer { central.stop() }
        try await central.waitUntilServing()
        let (_, grant) = try await Self.admit(port: central.port, key: key, device: "edge-1")
        let sessionID = try #require(grant["session_id"] as? String)
        let client = StreamTestClient(port: central.port, token: try #require(grant["stream_token"] as? String))
        client.start()
        #expect(await client.started() != nil)
        await client.stream(OpusTestAudio.frames(seconds: 2), interval: .milliseconds(20))
        _ = await client.waitFor { if case .quota(let q) = $0, (q.sessionBilledMs ?? 0) >= 1_000 { q } else { nil } }

        proxy.partition()
        central.process.terminate()
        #expect(central.process.waitForExit(within: .seconds(15)), "central did not exit within its grace")
        #expect(central.process.terminationStatus == 1)

        // Its next start, with the database back, bills the session to its last checkpoint.
        proxy.heal()
        let restarted = try CentralProcess(
            databaseURL: viaProxy.description, port: CentralProcess.freePort(), adminToken: CentralFixture.adminToken,
            environment: environment)
        defer { restarted.stop() }
        try await restarted.waitUntilServing()
        var record: StreamSessionRecord?
        #expect(try await eventually(within: .seconds(20)) {
            record = try await store.streamSession(id: sessionID)
            return record?.status == .closed
        })
        let billed = record?.billedMs ?? -1
        #expect(billed >= 1_000 && billed <= 2_000, "billed \(billed) ms")
        #expect(try await store.license(id: id)?.usedMs == billed)
        #expect(try await store.activeLeaseCount(now: Date()) == 0)
    }
}
