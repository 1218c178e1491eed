import AsyncHTTPClient
@testable import Central
import Foundation
import NIOCore
import PostgresNIO
import Protocol
import Testing

/// What only a shared PostgreSQL server can show: several clients (as several central
/// instances hold) racing on one database, and migrations applied by instances starting
/// together. The store's behaviour itself is the conformance suite's (StoreConformance).
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct PostgresStoreTests {
    /// 50 admissions from five clients against `max_concurrent = 1`: exactly one wins, whatever
    /// the interleaving (the license row is locked, never counted then inserted).
    @Test func fiftyRacingAdmissionsFromFiveClientsAdmitExactlyOne() async throws {
        let s = try await StoreFactory.postgres.make()
        let (key, id) = try await s.createLicense { $0.concurrent = 1; $0.devices = 100 }
        let connections = try await s.connections(5)
        let decisions = try await withThrowingTaskGroup(of: AdmissionDecision.self) { group in
            for index in 0..<50 {
                let connection = connections[index % connections.count]
                group.addTask { try await s.admit(key, device: "device-\(index)", via: connection) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(decisions.filter { $0.refusalCode == nil }.count == 1)
        #expect(decisions.filter { $0.refusalCode == .concurrencyLimit }.count == 49)
        #expect(try await s.store.activeLeases(licenseID: id, now: s.now).count == 1)
        #expect(try await s.store.devices(licenseID: id).count == 1)
    }

    /// Two instances each checkpoint, in one batch a tick, half of the many sessions of one
    /// license, plus sessions of a second license listed in the opposite order on each side (so
    /// a lock order that followed the batch would deadlock). Everything each forwards is billed,
    /// and neither bills past the limit.
    @Test func parallelCheckpointBatchesFromTwoInstancesNeverBillPastTheLimit() async throws {
        let s = try await StoreFactory.postgres.make()
        let budgetMs: Int64 = 30_000
        let perLicense = 16
        let (keyA, idA) = try await s.createLicense {
            $0.minutes = 30.0 / 60; $0.concurrent = perLicense; $0.devices = perLicense; $0.sessions = 1_000
        }
        let (keyB, idB) = try await s.createLicense {
            $0.minutes = 30.0 / 60; $0.concurrent = perLicense; $0.devices = perLicense; $0.sessions = 1_000
        }
        var streamsA: [MeteredStream] = [], streamsB: [MeteredStream] = []
        for index in 0..<perLicense {
            streamsA.append(try await s.stream(keyA, licenseID: idA, device: "device-\(index)"))
            streamsB.append(try await s.stream(keyB, licenseID: idB, device: "device-\(index)"))
        }
        let instances = try await s.connections(2)
        let half = perLicense / 2
        // Instance 0 lists A's sessions before B's, instance 1 B's before A's.
        let batches = [
            Array(streamsA[..<half]) + Array(streamsB[..<half]),
            Array(streamsB[half...]) + Array(streamsA[half...]),
        ]
        let now = s.now
        let spent = try await withThrowingTaskGroup(of: [GreedySender].self) { group in
            for (instance, batch) in zip(instances, batches) {
                group.addTask {
                    var senders = batch.map { GreedySender(stream: $0) }
                    var rounds = 0
                    while senders.contains(where: \.running), rounds < 1_000 {
                        rounds += 1
                        let running = senders.indices.filter { senders[$0].running }
                        for index in running { senders[index].forward() }
                        let results = try await instance.checkpointStreamSessions(running.map { senders[$0].request }, now: now)
                        for index in running { senders[index].take(results[senders[index].stream.id], budgetMs: budgetMs) }
                    }
                    return senders
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(spent.allSatisfy { !$0.running }, "a session never stopped")
        #expect(spent.flatMap(\.violations).isEmpty, "\(spent.flatMap(\.violations).prefix(5))")
        for id in [idA, idB] {
            let forwarded = spent.filter { $0.stream.licenseID == id }.reduce(0) { $0 + $1.acceptedMs }
            #expect(forwarded == budgetMs, "forwarded \(forwarded) of \(budgetMs) ms")
            #expect(try await s.license(id).usedMs == budgetMs)
            #expect(try await s.debitedMs(id) == budgetMs)
            #expect(try await s.store.usage(UsageQuery(licenseID: id)).totalMs == budgetMs)
        }
    }

    /// Five instances start together on an empty database: each migration is applied once, under
    /// the advisory lock, and every instance is ready afterwards.
    @Test func instancesStartingTogetherApplyEachMigrationOnce() async throws {
        let settings = try await PostgresTestServer.createDatabase()
        var stores: [PostgresCentralStore] = []
        for _ in 0..<5 {
            stores.append(PostgresCentralStore(
                client: await PostgresTestServer.client(settings, poolSize: 2), logger: PostgresTestServer.logger))
        }
        await #expect(throws: StoreError.notReady("migrations pending")) { try await stores[0].checkReady() }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == PostgresMigrations.all.map(\.version))
        for store in stores { try await store.checkReady() }
        let recorded = try await stores[1].read { db in
            try await db.rows("SELECT version FROM schema_migrations ORDER BY version").map { try $0["version", as: Int.self] }
        }
        #expect(recorded == PostgresMigrations.all.map(\.version))
        // The default plans were seeded once.
        #expect(try await stores[2].plans().map(\.name) == Plan.defaults.map(\.name).sorted())
        // Running again changes nothing.
        #expect(try await stores[3].migrate().isEmpty)
    }

    /// With nobody listening where the database should be, readiness fails within its 5 s and
    /// a starting server's migrations within their deadline, instead of waiting forever.
    @Test func anUnreachableDatabaseFailsReadinessAndMigrationsInBoundedTime() async throws {
        let settings = try PostgresConnectionSettings(
            url: "postgres://postgres@127.0.0.1:\(CentralProcess.freePort())/nowhere?sslmode=disable")
        let store = PostgresCentralStore(client: await PostgresTestServer.client(settings), logger: PostgresTestServer.logger)
        let started = ContinuousClock.now
        await #expect(throws: StoreError.self) { try await store.checkReady() }
        await #expect(throws: StoreError.self) { try await store.migrate(timeout: .seconds(1)) }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// The ledger is append-only in the database itself, not only by convention.
    @Test func theLedgerRefusesUpdatesAndDeletes() async throws {
        let s = try await StoreFactory.postgres.make()
        let (_, id) = try await s.createLicense()
        try await s.store.meter(licenseID: id, ms: 1_000, now: s.now)
        let store = try #require(s.store as? PostgresCentralStore)
        await #expect(throws: (any Error).self) {
            try await store.write { db in try await db.execute("UPDATE ledger SET amount_ms = 0") }
        }
        await #expect(throws: (any Error).self) {
            try await store.write { db in try await db.execute("DELETE FROM ledger") }
        }
        #expect(try await s.debitedMs(id) == 1_000)
    }

    /// The real `central`: the CLI creates a license on a PostgreSQL database (migrating it), two
    /// `central serve` processes on that database are ready and share the license's one slot,
    /// and each shuts down by itself on SIGTERM.
    @Test func twoCentralProcessesServeOneDatabase() async throws {
        let url = try await PostgresTestServer.createDatabase().description
        let created = try await CommandRunner.run(
            "central", ["license", "create", "--name", "Shared GmbH", "--plan", "trial-basic", "--json", "--database-url", url])
        #expect(created.status == 0, "\(created.stderr)")
        let key = try WireCoding.decoder().decode(CreatedLicense.self, from: Data(created.stdout.utf8)).key
        let instances = try (0..<2).map { _ in
            try CentralProcess(databaseURL: url, port: CentralProcess.freePort(), adminToken: CentralFixture.adminToken)
        }
        defer { for instance in instances { instance.stop() } }
        var statuses: [UInt] = []
        for instance in instances {
            try await instance.waitUntilServing()
            let ready = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(instance.port)/readyz"), timeout: .seconds(5))
            #expect(ready.status == .ok)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(instance.port)/v1/sessions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
            request.body = .bytes(ByteBuffer(string: #"{"device_id":"edge-\#(instance.port)"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            statuses.append(response.status.code)
        }
        // trial-basic allows one stream: the second instance sees the first one's lease.
        #expect(statuses == [201, 429])
        // SIGTERM: each shuts down by itself (an exit, not the signal's default death).
        for instance in instances {
            instance.stop()
            #expect(instance.process.terminationReason == .exit)
        }
    }
}
