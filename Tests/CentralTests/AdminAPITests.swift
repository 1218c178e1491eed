@testable import Central
import Foundation
import HTTPTypes
import GRDB
import Protocol
import Testing

/// The admin API on a live server with a real SQLite file.
@Suite(.bounded) struct AdminAPITests {
    @Test func createShowsTheKeyOnceAndStoresOnlyItsHash() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let reply = try await central.admin(.post, "/v1/admin/licenses", body: """
                {"plan":"trial-standard","customer_name":"Acme","customer_email":"ops@acme.example","sessions":3,
                 "ip_allowlist":["203.0.113.0/24","2001:db8::/32"],"notes":"pilot"}
                """)
            #expect(reply.status == .created, "\(reply.text)")
            let created = try reply.decode(CreatedLicense.self)
            #expect(created.key.hasPrefix("TRIAL-"))
            let license = created.license
            #expect(license.plan == "trial-standard")
            #expect(license.limitMs == 180 * 60_000)          // from the plan
            #expect(license.sessionLimit == 3)                 // explicit override
            #expect(license.ipAllowlist == ["203.0.113.0/24", "2001:db8::/32"])
            #expect(abs((license.expiresAt ?? .distantPast).timeIntervalSince(license.startsAt) - 14 * 86_400) < 0.001)

            let shown = try await central.admin(.get, "/v1/admin/licenses/\(license.id)")
            #expect(shown.status == .ok)
            #expect(!shown.text.contains(created.key))
            #expect(shown.text.contains(license.keyPrefix))
            let stored = try await fixture.store.pool.read { db in
                try String.fetchOne(db, sql: "SELECT key_hash FROM licenses WHERE id = ?", arguments: [license.id])
            }
            #expect(stored == LicenseKey.hash(created.key))
            let leaked = try await fixture.store.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM licenses WHERE key_hash = ? OR key_prefix = ?", arguments: [created.key, created.key])
            }
            #expect(leaked == 0)
        }
    }

    @Test func listFiltersAndPagesWithACursor() async throws {
        let fixture = try CentralFixture()
        for index in 0..<7 {
            _ = try await fixture.createLicense { $0.customerName = "Customer \(index)"; $0.plan = index % 2 == 0 ? "trial-basic" : "trial-standard" }
        }
        let (_, suspended) = try await fixture.createLicense { $0.customerName = "Zed Suspended" }
        _ = try await fixture.administration.perform(.suspend, id: suspended)
        try await fixture.withLiveServer { central in
            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/v1/admin/licenses?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await central.admin(.get, path).decode(LicenseListing.self)
                #expect(page.licenses.count <= 3)
                seen += page.licenses.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 8 && Set(seen).count == 8)

            let standard = try await central.admin(.get, "/v1/admin/licenses?plan=trial-standard").decode(LicenseListing.self)
            #expect(standard.licenses.count == 3)
            let bySuspended = try await central.admin(.get, "/v1/admin/licenses?status=suspended").decode(LicenseListing.self)
            #expect(bySuspended.licenses.map(\.id) == [suspended])
            let byQuery = try await central.admin(.get, "/v1/admin/licenses?q=zed").decode(LicenseListing.self)
            #expect(byQuery.licenses.map(\.id) == [suspended])
            let wildcard = try await central.admin(.get, "/v1/admin/licenses?q=%25").decode(LicenseListing.self)
            #expect(wildcard.licenses.isEmpty)

            for (path, field) in [("status=gone", "status"), ("limit=0", "limit"), ("cursor=abc", "cursor"), ("sort=x", "sort")] {
                let bad = try await central.admin(.get, "/v1/admin/licenses?\(path)")
                #expect(bad.status == .badRequest && bad.error?.code == .invalidQuery && bad.error?.field == field, "\(path)")
            }
        }
    }

    @Test func lifecycleActionsChangeTheLicenseAndAreAudited() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.minutes = 1 }
        try await fixture.withLiveServer { central in
            let operatorIP = "192.0.2.44"
            func act(_ action: String, _ body: String? = nil) async throws -> LicenseView {
                let reply = try await central.admin(.post, "/v1/admin/licenses/\(id)/\(action)", body: body, from: operatorIP)
                #expect(reply.status == .ok, "\(action): \(reply.text)")
                return try reply.decode()
            }
            #expect(try await act("suspend").status == .suspended)
            #expect(try await central.admit(key: key).error?.code == .licenseSuspended)
            #expect(try await act("resume").status == .active)
            let before = try await central.admin(.get, "/v1/admin/licenses/\(id)").decode(LicenseView.self)
            let extended = try await act("extend", #"{"days":5}"#)
            #expect(abs(try #require(extended.expiresAt).timeIntervalSince(try #require(before.expiresAt)) - 5 * 86_400) < 0.001)
            #expect(try await act("topup", #"{"minutes":2.5}"#).limitMs == 210_000)
            #expect(try await central.admit(key: key, device: "d1").status == .created)
            let withDevice = try await central.admin(.get, "/v1/admin/licenses/\(id)").decode(LicenseView.self)
            #expect(withDevice.devices?.map(\.fingerprint) == ["d1"])
            #expect(withDevice.activeLeases?.count == 1)
            #expect(try await act("reset-devices").devices == [])
            #expect(try await act("revoke").status == .revoked)
            let resume = try await central.admin(.post, "/v1/admin/licenses/\(id)/resume")
            #expect(resume.status == .conflict && resume.error?.code == .invalidTransition)
            let badDays = try await central.admin(.post, "/v1/admin/licenses/\(id)/extend", body: #"{"days":-3}"#)
            #expect(badDays.status == .badRequest && badDays.error?.code == .negativeNumber && badDays.error?.field == "days")
            let unknownAction = try await central.admin(.post, "/v1/admin/licenses/\(id)/explode")
            #expect(unknownAction.status == .notFound)

            let audit = try await central.admin(.get, "/v1/admin/audit?license_id=\(id)").json()
            let entries = try #require(audit["entries"] as? [[String: Any]])
            let actions = entries.compactMap { $0["action"] as? String }
            #expect(actions.starts(with: ["license.revoke", "license.reset_devices", "license.topup", "license.extend", "license.resume", "license.suspend"]))
            #expect(entries.first?["ip"] as? String == operatorIP)
            #expect(entries.first?["actor"] as? String == "admin-api")
            #expect(actions.last == "license.create")
        }
    }

    @Test func patchChangesOnlyTheGivenFieldsAndNullClearsALimit() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense { $0.dailyMinutes = 5 }
        try await fixture.withLiveServer { central in
            let reply = try await central.admin(.patch, "/v1/admin/licenses/\(id)", body: #"{"notes":"renewed","daily_minutes":null,"minutes":90,"concurrent":2}"#)
            #expect(reply.status == .ok, "\(reply.text)")
            let license: LicenseView = try reply.decode()
            #expect(license.notes == "renewed" && license.dailyCapMs == nil && license.limitMs == 5_400_000 && license.maxConcurrent == 2)
            #expect(license.customerName == "Test Customer" && license.sessionLimit == 10)
            // Changing the minute limit is a ledger credit like a top-up.
            #expect(try await fixture.store.ledger(licenseID: id).last?.amountMs == 1_800_000)

            let cases: [(String, ErrorCode, String?)] = [
                (#"{"minutes":"ninety"}"#, .invalidType, "minutes"),
                (#"{"minutes":-5}"#, .negativeNumber, "minutes"),
                (#"{"status":"active"}"#, .unknownField, "status"),
                (#"{"customer_name":null}"#, .invalidType, "customer_name"),
                (#"{"notes":"\#(String(repeating: "n", count: 2001))"}"#, .stringTooLong, "notes"),
                (#"{"ip_allowlist":["10.0.0.0/99"]}"#, .invalidValue, "ip_allowlist"),
                (#"{"concurrent":1.5}"#, .invalidType, "concurrent"),
                (#"{"plan":"no-such-plan"}"#, .invalidValue, "plan"),
                ("not json", .malformedJSON, nil),
            ]
            for (body, code, field) in cases {
                let bad = try await central.admin(.patch, "/v1/admin/licenses/\(id)", body: body)
                #expect(bad.status == .badRequest, "\(body): \(bad.text)")
                #expect(bad.error?.code == code && bad.error?.field == field, "\(body): \(bad.text)")
            }
            let missing = try await central.admin(.get, "/v1/admin/licenses/lic_nothere")
            #expect(missing.status == .notFound && missing.error?.code == .notFound)
        }
    }

    @Test func createRefusesEachBadInputClass() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let cases: [(String, ErrorCode, String?)] = [
                ("{\"customer_name\":", .malformedJSON, nil),
                (#"{"plan":"trial-basic"}"#, .missingField, "customer_name"),
                (#"{"customer_name":"   "}"#, .missingField, "customer_name"),
                (#"{"customer_name":"a","days":"7"}"#, .invalidType, "days"),
                (#"{"customer_name":"a","days":0}"#, .invalidValue, "days"),
                (#"{"customer_name":"a","minutes":-1}"#, .negativeNumber, "minutes"),
                (#"{"customer_name":"a","minutes":1e12}"#, .invalidValue, "minutes"),
                (#"{"customer_name":"a","admin":true}"#, .unknownField, "admin"),
                (#"{"customer_name":"\#(String(repeating: "a", count: 201))"}"#, .stringTooLong, "customer_name"),
                (#"{"customer_name":"a","customer_email":"not-an-email"}"#, .invalidValue, "customer_email"),
                (#"{"customer_name":"a","starts_at":"soon"}"#, .invalidValue, "starts_at"),
                (#"{"customer_name":"a","plan":"gold"}"#, .invalidValue, "plan"),
                (#"{"customer_name":"a","ip_allowlist":"10.0.0.0/8"}"#, .invalidType, "ip_allowlist"),
            ]
            for (body, code, field) in cases {
                let reply = try await central.admin(.post, "/v1/admin/licenses", body: body)
                #expect(reply.status == .badRequest, "\(body): \(reply.text)")
                #expect(reply.error?.code == code && reply.error?.field == field, "\(body): \(reply.text)")
            }
            // None of it created anything.
            #expect(try await central.admin(.get, "/v1/admin/licenses").decode(LicenseListing.self).licenses.isEmpty)
        }
    }

    @Test func usageReportIsJSONOrCSVAndMatchesTheLedger() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense { $0.customerName = "=cmd|' /C calc'!A0" }
        let dayOne = UTCDay(containing: fixture.clock.now()).description
        // One session across midnight: 61.234 s on day one, 1 ms more on day two.
        let stream = try await MeteredStream.open(on: fixture.store, licenseID: id, now: fixture.clock.now())
        _ = try await stream.checkpoint(acceptedMs: 61_234, now: fixture.clock.now())
        fixture.clock.advance(by: 86_400)
        _ = try await stream.checkpoint(acceptedMs: 61_235, now: fixture.clock.now())
        try await stream.close(now: fixture.clock.now())
        try await fixture.withLiveServer { central in
            let report = try await central.admin(.get, "/v1/admin/usage?license_id=\(id)").decode(UsageReport.self)
            #expect(report.rows.map(\.usedMs) == [61_234, 1])
            #expect(report.totalMs == (try await fixture.store.license(id: id))?.usedMs)
            let day = try await central.admin(.get, "/v1/admin/usage?day=\(dayOne)").decode(UsageReport.self)
            #expect(day.rows.count == 1 && day.rows[0].sessionsStarted == 1)

            let csv = try await central.admin(.get, "/v1/admin/usage?format=csv&from=\(dayOne)&to=\(dayOne)")
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text == "day,license_id,customer_name,seconds_used,sessions_started,debits,chat_requests,chat_input_tokens,chat_output_tokens\r\n\(dayOne),\(id),'=cmd|' /C calc'!A0,61.234,1,1,0,0,0\r\n")

            for query in ["day=2026-13-01", "from=yesterday", "format=xml", "day=\(dayOne)&from=\(dayOne)"] {
                let bad = try await central.admin(.get, "/v1/admin/usage?\(query)")
                #expect(bad.status == .badRequest && bad.error?.code == .invalidQuery, "\(query)")
            }
        }
    }

    @Test func plansAreEditableTemplates() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let plans = try await central.admin(.get, "/v1/admin/plans").json()["plans"] as? [[String: Any]]
            let basic = try #require(plans?.first { $0["name"] as? String == "trial-basic" })
            #expect(basic["validity_days"] as? Int == 7 && basic["minutes"] as? Int == 60 && basic["session_limit"] as? Int == 10 && basic["max_concurrent"] as? Int == 1)

            let saved = try await central.admin(.put, "/v1/admin/plans/pilot", body: #"{"validity_days":3,"minutes":15.5,"max_concurrent":2,"max_devices":1}"#)
            #expect(saved.status == .ok, "\(saved.text)")
            let created = try await central.admin(.post, "/v1/admin/licenses", body: #"{"plan":"pilot","customer_name":"P"}"#).decode(CreatedLicense.self)
            #expect(created.key.hasPrefix("LIC-"))
            #expect(created.license.limitMs == 930_000 && created.license.sessionLimit == nil && created.license.maxConcurrent == 2)
            let bad = try await central.admin(.put, "/v1/admin/plans/pilot", body: #"{"validity_days":3}"#)
            #expect(bad.status == .badRequest && bad.error?.code == .missingField)
        }
    }

    @Test func adminAuthenticationIsRequiredAndRateLimited() async throws {
        let fixture = try CentralFixture { $0.authFailuresPerMinute = 3 }
        try await fixture.withLiveServer { central in
            let none = try await central.request(.get, "/v1/admin/licenses")
            #expect(none.status == .unauthorized && none.error?.code == .adminUnauthorized)
            let ip = "198.51.100.200"
            for _ in 0..<2 {
                let wrong = try await central.request(.get, "/v1/admin/licenses", headers: [.authorization: "Bearer wrong", xForwardedFor: ip])
                #expect(wrong.status == .unauthorized)
            }
            // A license key is not an admin token.
            let (key, _) = try await fixture.createLicense()
            #expect(try await central.request(.get, "/v1/admin/licenses", headers: [.authorization: "Bearer \(key)", xForwardedFor: ip]).status == .unauthorized)
            let limited = try await central.admin(.get, "/v1/admin/licenses", from: ip)
            #expect(limited.status == .tooManyRequests && limited.error?.code == .rateLimited && limited.headers[.retryAfter] != nil)
            #expect(try await central.admin(.get, "/v1/admin/licenses", from: "198.51.100.201").status == .ok)
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        let fixture = try CentralFixture()
        let (key, _) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            #expect(try await central.request(.get, "/healthz").status == .ok)
            #expect(try await central.request(.get, "/readyz").text == #"{"status":"ready"}"#)
            _ = try await central.admit(key: key)
            _ = try await central.admit(key: key)
            let metrics = PrometheusText(try await central.request(.get, "/metrics").text)
            #expect(metrics.value("central_admissions_total", ["result": "admitted"]) == 1)
            #expect(metrics.value("central_admissions_total", ["result": "concurrency_limit"]) == 1)
            #expect(metrics.value("central_active_leases") == 1)
            #expect(metrics.value("central_http_requests_total", ["method": "POST", "status": "201"]) == 1)
            let unknown = try await central.request(.get, "/nope")
            #expect(unknown.status == .notFound && unknown.error?.code == .notFound)
        }
    }
}
