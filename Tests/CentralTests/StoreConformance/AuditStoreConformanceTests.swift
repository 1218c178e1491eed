@testable import Central
import Foundation
import Testing

/// `AuditStore`: the trail of administrative changes, newest first, as every store must keep it.
@Suite(.bounded, .postgresTestScope) struct AuditStoreConformanceTests {
    @Test(arguments: StoreFactory.all)
    func entriesAppendAndPageBackwards(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let operators = [AdminOperator(name: "alice", ip: "192.0.2.1"), AdminOperator(name: "cli:bob", ip: nil)]
        for index in 0..<7 {
            try await s.store.appendAudit(
                action: "test.action\(index)", licenseID: index.isMultiple(of: 2) ? "lic_even" : nil,
                detail: index == 3 ? nil : "detail \(index)", actor: operators[index % 2], now: s.now)
            s.clock.advance(by: 1)
        }
        let all = try await s.store.audit(AuditQuery())
        #expect(all.map(\.action) == (0..<7).reversed().map { "test.action\($0)" })
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.sequence > $1.sequence && $0.at > $1.at })
        let newest = try #require(all.first)
        #expect(newest.actor == "alice" && newest.ip == "192.0.2.1" && newest.licenseID == "lic_even")
        #expect(newest.detail == "detail 6" && newest.at == s.now.addingTimeInterval(-1))
        #expect(all.first { $0.action == "test.action3" }.map { $0.detail == nil && $0.ip == nil && $0.actor == "cli:bob" } == true)

        // Pages of three, each older than the last one seen.
        var pages: [[String]] = []
        var before: Int64?
        repeat {
            let page = try await s.store.audit(AuditQuery(limit: 3, before: before))
            if page.isEmpty { break }
            pages.append(page.map(\.action))
            before = page.last?.sequence
        } while true
        #expect(pages.map(\.count) == [3, 3, 1])
        #expect(pages.flatMap { $0 } == all.map(\.action))

        let even = try await s.store.audit(AuditQuery(licenseID: "lic_even"))
        #expect(even.map(\.action) == ["test.action6", "test.action4", "test.action2", "test.action0"])
        #expect(try await s.store.audit(AuditQuery(licenseID: "lic_even", limit: 2, before: even[1].sequence)).map(\.action)
            == ["test.action2", "test.action0"])
        #expect(try await s.store.audit(AuditQuery(licenseID: "lic_none")).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func everyAdministrativeChangeOfALicenseIsAudited(_ factory: StoreFactory) async throws {
        let s = try await factory.make()
        let (_, id) = try await s.createLicense()
        _ = try await s.administration.perform(.suspend, id: id)
        _ = try await s.administration.perform(.resume, id: id)
        _ = try await s.administration.perform(.topup(minutes: 1), id: id)
        _ = try await s.administration.perform(.resetDevices, id: id)
        try await s.administration.deleteLicense(id: id)
        let trail = try await s.store.audit(AuditQuery(licenseID: id))
        #expect(trail.map(\.action) == [
            "license.delete", "license.reset_devices", "license.topup", "license.resume", "license.suspend", "license.create",
        ])
        #expect(trail.allSatisfy { $0.actor == "test" && $0.licenseID == id })
    }
}
