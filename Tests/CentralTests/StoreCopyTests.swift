@testable import Central
import Foundation
import Protocol
import Testing

/// `central store copy`: a vendor's SQLite data into an empty PostgreSQL database, verified.
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct StoreCopyTests {
    @Test func everythingArrivesAndASecondCopyIsRefused() async throws {
        let source = try await StoreFactory.sqlite.make()
        let (key, id) = try await source.createLicense { $0.concurrent = 2; $0.ipAllowlist = try? IPAllowlist.parse(["198.51.100.0/24"]).get() }
        try await source.store.savePlan(
            Plan(name: "custom", validityDays: 3, minutes: 12.5, sessionLimit: nil, maxConcurrent: 2, maxDevices: 4,
                 dailyMinutes: 1.5, description: "ours", provider: "demo"),
            actor: AdminOperator(name: "t", ip: nil), now: source.now)
        let stream = try await source.stream(key, licenseID: id)
        _ = try await stream.checkpoint(acceptedMs: 2_500, reserveMs: 1_000, now: source.now)
        try await stream.close(now: source.now)
        try await source.store.insertProviderKey(ProviderKeyRecord(
            id: "pk_1", provider: "dashscope", label: "main", ciphertext: Data([0, 1, 2, 255]), fingerprint: "f1",
            hint: "abcd", source: .admin, status: .active, createdAt: source.now))
        _ = try await source.administration.perform(.topup(minutes: 1), id: id)
        let path = try #require((source.store as? SQLiteCentralStore)?.pool.path)

        let url = try await PostgresTestServer.createDatabase().description
        let copied = try await CommandRunner.run("central", ["store", "copy", "--from", "sqlite:\(path)", "--to", url])
        #expect(copied.status == 0, "\(copied.stdout)\(copied.stderr)")
        #expect(copied.stdout.contains("ledger: ") && copied.stdout.contains("copied and verified"))

        let target = PostgresCentralStore(
            client: await PostgresTestServer.client(try PostgresConnectionSettings(url: url)), logger: PostgresTestServer.logger)
        try await target.checkReady()
        #expect(try await target.license(id: id) == source.store.license(id: id))
        #expect(try await target.license(keyHash: LicenseKey.hash(key))?.id == id)
        #expect(try await target.ledger(licenseID: id) == source.store.ledger(licenseID: id))
        #expect(try await target.usage(UsageQuery()) == source.store.usage(UsageQuery()))
        #expect(try await target.audit(AuditQuery()) == source.store.audit(AuditQuery()))
        #expect(try await target.plans() == source.store.plans())
        #expect(try await target.providerKeys() == source.store.providerKeys())
        #expect(try await target.streamSession(id: stream.id) == source.store.streamSession(id: stream.id))
        #expect(try await target.devices(licenseID: id) == source.store.devices(licenseID: id))
        // New rows continue the copied sequences.
        _ = try await StoreLicenseAdministration(store: target, clock: source.clock, actor: AdminOperator(name: "t", ip: nil))
            .perform(.suspend, id: id)
        let audit = try await target.audit(AuditQuery(limit: 2))
        #expect(audit.count == 2 && audit[0].sequence == audit[1].sequence + 1 && audit[0].action == "license.suspend")

        let again = try await CommandRunner.run("central", ["store", "copy", "--from", "sqlite:\(path)", "--to", url])
        #expect(again.status != 0 && again.stderr.contains("not empty"), "\(again.stderr)")
    }
}
