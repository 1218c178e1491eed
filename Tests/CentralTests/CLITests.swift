@testable import Central
import Foundation
import Protocol
import Testing

/// The `central` executable, run as a child process against a real database file and a live server.
@Suite(.bounded) struct CLITests {
    @Test func manageLicensesOnTheDatabaseDirectly() async throws {
        let fixture = try CentralFixture()
        let db = ["--database-url", "sqlite:\(fixture.databasePath)"]
        let created = try await CommandRunner.run(
            "central", ["license", "create", "--name", "Acme GmbH", "--email", "it@acme.example", "--minutes", "2.5", "--ip", "10.0.0.0/8", "--json"] + db)
        #expect(created.status == 0, "\(created.stderr)")
        let body = try WireCoding.decoder().decode(CreatedLicense.self, from: Data(created.stdout.utf8))
        #expect(body.license.limitMs == 150_000 && body.license.ipAllowlist == ["10.0.0.0/8"])
        #expect(try await fixture.store.license(keyHash: LicenseKey.hash(body.key))?.id == body.license.id)

        let list = try await CommandRunner.run("central", ["license", "list"] + db)
        #expect(list.status == 0)
        #expect(list.stdout.contains("Acme GmbH") && list.stdout.contains(body.license.keyPrefix) && !list.stdout.contains(body.key))

        let topup = try await CommandRunner.run("central", ["license", "topup", body.license.id, "--minutes", "1"] + db)
        #expect(topup.status == 0 && topup.stdout.contains("of 3.50"), "\(topup.stdout)\(topup.stderr)")
        let suspend = try await CommandRunner.run("central", ["license", "suspend", body.license.id, "--json"] + db)
        #expect(try WireCoding.decoder().decode(LicenseView.self, from: Data(suspend.stdout.utf8)).status == .suspended)

        try await fixture.store.meter(licenseID: body.license.id, ms: 4_321, now: Date())
        let usage = try await CommandRunner.run("central", ["usage", "--csv"] + db)
        #expect(usage.stdout.hasPrefix("day,license_id,customer_name,seconds_used") && usage.stdout.contains("4.321"))

        let audit = try await fixture.store.audit(AuditQuery(licenseID: body.license.id))
        #expect(audit.allSatisfy { $0.actor == "cli:tester" })
    }

    @Test func badCommandLinesFailWithAMessage() async throws {
        let fixture = try CentralFixture()
        let db = ["--database-url", "sqlite:\(fixture.databasePath)"]
        let negative = try await CommandRunner.run("central", ["license", "create", "--name", "X", "--minutes=-1"] + db)
        #expect(negative.status != 0 && negative.stderr.contains("minutes"))
        let badIP = try await CommandRunner.run("central", ["license", "create", "--name", "X", "--ip", "10.0.0.0/40"] + db)
        #expect(badIP.status != 0 && badIP.stderr.contains("ip_allowlist"))
        let missing = try await CommandRunner.run("central", ["license", "show", "lic_missing"] + db)
        #expect(missing.status != 0 && missing.stderr.contains("lic_missing"))
        #expect(try await fixture.store.listLicenses(LicenseFilter()).licenses.isEmpty)
    }

    @Test func manageLicensesThroughTheAdminAPI() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let remote = ["--url", "http://localhost:\(central.port)", "--token", CentralFixture.adminToken]
            let created = try await CommandRunner.run("central", ["license", "create", "--name", "Remote Co", "--plan", "trial-standard", "--json"] + remote)
            #expect(created.status == 0, "\(created.stderr)")
            let body = try WireCoding.decoder().decode(CreatedLicense.self, from: Data(created.stdout.utf8))
            let extend = try await CommandRunner.run("central", ["license", "extend", body.license.id, "--days", "3", "--json"] + remote)
            #expect(extend.status == 0, "\(extend.stderr)")
            let shown = try await CommandRunner.run("central", ["license", "show", body.license.id] + remote)
            #expect(shown.stdout.contains("Remote Co") && shown.stdout.contains("trial-standard"))
            let audit = try await fixture.store.audit(AuditQuery(licenseID: body.license.id))
            #expect(audit.map(\.action) == ["license.extend", "license.create"])
            #expect(audit.allSatisfy { $0.actor == "cli:tester" && $0.ip != nil })

            let wrongToken = try await CommandRunner.run("central", ["license", "list", "--url", "http://localhost:\(central.port)", "--token", "nope"])
            #expect(wrongToken.status != 0 && wrongToken.stderr.contains("admin_unauthorized"))
        }
    }

    @Test func plansAndLicensesNameTheirProvider() async throws {
        let fixture = try CentralFixture()
        let db = ["--database-url", "sqlite:\(fixture.databasePath)"]
        let plan = try await CommandRunner.run(
            "central", ["plan", "set", "quiet", "--days", "7", "--minutes", "60", "--concurrent", "1", "--devices", "1", "--provider", "null"] + db)
        #expect(plan.status == 0, "\(plan.stderr)")
        let plans = try await CommandRunner.run("central", ["plan", "list"] + db)
        #expect(plans.stdout.contains("PROVIDER") && plans.stdout.contains("null"), "\(plans.stdout)")
        let created = try await CommandRunner.run("central", ["license", "create", "--name", "Quiet Co", "--plan", "quiet", "--json"] + db)
        let body = try WireCoding.decoder().decode(CreatedLicense.self, from: Data(created.stdout.utf8))
        #expect(body.license.provider == "null")
        try await fixture.withLiveServer { central in
            let remote = ["--url", "http://localhost:\(central.port)", "--token", CentralFixture.adminToken]
            let updated = try await CommandRunner.run("central", ["license", "update", body.license.id, "--provider", "demo", "--json"] + remote)
            #expect(try WireCoding.decoder().decode(LicenseView.self, from: Data(updated.stdout.utf8)).provider == "demo", "\(updated.stderr)")
            let cleared = try await CommandRunner.run("central", ["license", "update", body.license.id, "--default-provider"] + remote)
            #expect(cleared.status == 0 && cleared.stdout.contains("provider:         default"), "\(cleared.stdout)\(cleared.stderr)")
            let unknown = try await CommandRunner.run("central", ["license", "update", body.license.id, "--provider", "whisper-cloud"] + remote)
            #expect(unknown.status != 0 && unknown.stderr.contains("provider"))
        }
        #expect(try await fixture.store.license(id: body.license.id)?.provider == nil)
    }

    @Test func serveRefusesToStartWithoutAnAdminToken() async throws {
        let fixture = try CentralFixture()
        let result = try await CommandRunner.run("central", ["serve", "--port", "0", "--database-url", "sqlite:\(fixture.databasePath)"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("No admin token"))
    }
}
