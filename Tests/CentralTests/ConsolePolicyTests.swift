@testable import Central
import Foundation
import Protocol
import Testing

/// The console's rules without a server or a database.
@Suite struct ConsolePolicyTests {
    @Test func rolesCoverWhatTheyShould() {
        let cases: [(String, String, OperatorRole)] = [
            ("GET", "licenses", .viewer), ("GET", "usage/sessions", .viewer), ("GET", "provider-keys", .viewer),
            ("GET", "plans", .viewer), ("GET", "audit", .viewer), ("HEAD", "licenses/lic_1", .viewer),
            ("POST", "licenses", .operator), ("POST", "licenses/lic_1/topup", .operator), ("DELETE", "sessions/s1", .operator),
            ("PATCH", "licenses/lic_1", .operator), ("POST", "minutes-requests/m1/approve", .operator),
            ("PUT", "plans/x", .admin), ("POST", "provider-keys", .admin), ("GET", "operators", .admin),
            ("GET", "webhooks", .admin), ("POST", "webhooks/deliveries/d/redeliver", .admin), ("DELETE", "operators/x", .admin),
        ]
        for (method, path, role) in cases {
            #expect(ConsolePermission.required(method: method, path: "/v1/admin/\(path)") == role, "\(method) \(path)")
        }
        #expect(OperatorRole.viewer < .operator && OperatorRole.operator < .admin)
        // Ids may be percent-encoded after the area (the CLI and the console encode them).
        #expect(ConsolePermission.required(method: "DELETE", path: "/v1/admin/operators/maria%40example.com") == .admin)
        #expect(ConsolePermission.required(method: "GET", path: "/v1/admin/licenses?status=active") == .viewer)
    }

    /// The router ignores empty segments, so `/v1/admin//operators` reaches the operators' routes:
    /// a rule reading the spelling would see no area. Such spellings are refused outright, and an
    /// area the rule does not know needs an admin.
    @Test func pathsSpelledAnotherWayAreRefusedAndUnknownAreasNeedAnAdmin() {
        for path in [
            "/v1/admin//operators", "//v1/admin/operators", "/v1//admin/operators", "/v1/admin/./operators",
            "/v1/admin/licenses/../operators", "/v1/admin/licenses/", "/v1/admin/operators//x", "/v1/admin",
            "/v1/admin/", "/v2/admin/operators", "v1/admin/operators", "/v1/admin/licenses/%2e%2e",
        ] {
            #expect(ConsolePermission.required(method: "POST", path: path) == nil, "\(path)")
            #expect(ConsolePermission.required(method: "GET", path: path) == nil, "\(path)")
        }
        for path in ["/v1/admin/%6fperators", "/v1/admin/OPERATORS", "/v1/admin/whatever"] {
            #expect(ConsolePermission.required(method: "GET", path: path) == .admin, "\(path)")
        }
    }

    @Test func webhookURLsAndChosenSecretsArePlain() {
        #expect(WebhookEndpoint.validURL("https://hooks.example.com/central?x=1"))
        for url in ["ftp://example.com/", "https://user:pw@example.com/", "https://exa mple.com/", "https:///x", "http://ex\u{7F}.com/"] {
            #expect(!WebhookEndpoint.validURL(url), "\(url)")
        }
        #expect(WebhookEndpoint.validSecret("whsec_0123456789abcdef"))
        #expect(WebhookEndpoint.validSecret(WebhookEndpoint.newSecret()))
        for secret in ["short-secret", "sixteen chars ok", "sixteen\tchars-ok", "geheimnis-schlüssel", "sealed:v1:0123456789abcdef"] {
            #expect(!WebhookEndpoint.validSecret(secret), "\(secret)")
        }
    }

    @Test func operatorNamesAreShortPlainAndCannotPoseAsTheSharedToken() {
        for name in ["alice", "bob.smith", "ops-1", "maria@example.com"] { #expect(OperatorAccount.isValidName(name), "\(name)") }
        for name in ["", ".", "..", "...", "admin-api", "admin-token", "cli:root", "a b", "名字", "x\u{202E}y", String(repeating: "a", count: 65)] {
            #expect(!OperatorAccount.isValidName(name), "\(name)")
        }
        let token = OperatorAccount.generateToken()
        #expect(token.hasPrefix("op_") && token.count == 67 && token != OperatorAccount.generateToken())
    }

    @Test func retriesBackOffFourfoldAndStopAfterADay() {
        let policy = WebhookRetryPolicy()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var now = start
        var waits: [TimeInterval] = []
        var attempts = 1
        while let next = policy.nextAttempt(afterFailedAttempts: attempts, createdAt: start, now: now) {
            waits.append(next.timeIntervalSince(now))
            now = next
            attempts += 1
        }
        #expect(waits.prefix(6) == [10, 40, 160, 640, 2560, 10240])
        #expect(waits.dropFirst(6).allSatisfy { $0 == 6 * 3600 })
        #expect(now.timeIntervalSince(start) <= 86_400 && now.timeIntervalSince(start) > 86_400 - 6 * 3600)
    }

    @Test func signaturesFollowTheDocumentedScheme() {
        let body = Array(#"{"id":"evt_1"}"#.utf8)
        let header = WebhookSignature.sign(secret: "whsec_test", timestamp: 1_800_000_000, body: body)
        // HMAC-SHA256("whsec_test", "1800000000.{\"id\":\"evt_1\"}"), computed independently (Python's hmac).
        #expect(header == "t=1800000000,v1=" + Self.expectedHex)
        let now = Date(timeIntervalSince1970: 1_800_000_100)
        #expect(WebhookSignature.verify(header: header, secret: "whsec_test", body: body, now: now))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test", body: Array(#"{"id":"evt_2"}"#.utf8), now: now))
        #expect(!WebhookSignature.verify(header: header, secret: "whsec_test", body: body, now: now.addingTimeInterval(600)))
        #expect(!WebhookSignature.verify(header: "t=1800000000", secret: "whsec_test", body: body, now: now))
        #expect(!WebhookSignature.verify(header: "garbage", secret: "whsec_test", body: body, now: now))
    }

    static let expectedHex = "45705be2a45ab5acdd1395cc695e9e7073125385ec24194921c401dff44176f8"

    @Test func eventsFollowTheLicenseState() {
        let policy = LicenseEventPolicy(expiringSoonDays: 3)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var license = License(
            id: "lic_1", keyPrefix: "TRIAL-X", customerName: "C", customerEmail: nil, plan: "p", status: .active, createdAt: now,
            updatedAt: now, startsAt: now, expiresAt: now.addingTimeInterval(10 * 86_400), validityDays: 10,
            expiryFromFirstUse: false, limitMs: 100_000, usedMs: 0, sessionLimit: nil, sessionsUsed: 0, dailyCapMs: 10_000,
            maxConcurrent: 1, maxDevices: 1, ipAllowlist: IPAllowlist(blocks: []), notes: "", lastUsedAt: nil)
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: now).isEmpty)
        license.usedMs = 79_999
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: now).isEmpty)
        license.usedMs = 80_000
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: now).map(\.type) == [.usage80])
        license.usedMs = 96_000
        #expect(policy.occurrences(of: license, usedTodayMs: 10_000, now: now).map(\.type) == [.usage95, .dailyCapReached])
        license.usedMs = 100_000
        #expect(policy.occurrences(of: license, usedTodayMs: 9_999, now: now).map(\.type) == [.usageExhausted])
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: now).first?.discriminator == "100000")
        license.usedMs = 0
        let soon = now.addingTimeInterval(8 * 86_400)
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: soon).map(\.type) == [.expiringSoon])
        let after = now.addingTimeInterval(10 * 86_400 + 60)
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: after).map(\.type) == [.expired])
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: after.addingTimeInterval(86_400)).isEmpty)
        license.status = .suspended
        license.usedMs = 100_000
        #expect(policy.occurrences(of: license, usedTodayMs: nil, now: now).isEmpty)
    }

    @Test func aSessionLapsesWhenIdleOrOldAndItsLastUseIsWrittenSparingly() {
        let policy = ConsoleSessionPolicy(idleTimeout: 60, maxAge: 300, capacity: 3)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let who = AuthenticatedOperator(name: "a", role: .viewer, sharedToken: false)
        var session = ConsoleSession(tokenHash: "h", signedIn: who, createdAt: start, lastSeenAt: start)
        var now = start
        for _ in 0..<5 {
            now = now.addingTimeInterval(59)
            #expect(policy.isLive(session, now: now))
            #expect(policy.needsTouch(session, now: now))
            session.lastSeenAt = now
        }
        #expect(policy.isLive(session, now: start.addingTimeInterval(301)) == false, "older than maxAge")
        #expect(policy.isLive(session, now: now.addingTimeInterval(60)) == false, "idle for the timeout")
        #expect(policy.touchInterval == 15)
        #expect(policy.needsTouch(session, now: now.addingTimeInterval(14)) == false)
        #expect(ConsoleSessionPolicy(idleTimeout: 900).touchInterval == 30)
        #expect(policy.idleCutoff(now: start) == start.addingTimeInterval(-60))
        #expect(policy.ageCutoff(now: start) == start.addingTimeInterval(-300))
    }

    @Test func theCookieIsRandomAndTheCSRFTokenDerivesFromItAlone() {
        let one = ConsoleSessionPolicy.newCookie()
        let two = ConsoleSessionPolicy.newCookie()
        #expect(one.hasPrefix("cs_") && one.count == 67 && one != two)
        let csrf = ConsoleSessionPolicy.csrfToken(cookie: one)
        #expect(csrf.hasPrefix("csrf_") && csrf.count == 69)
        #expect(csrf == ConsoleSessionPolicy.csrfToken(cookie: one), "every instance derives the same token")
        #expect(csrf != ConsoleSessionPolicy.csrfToken(cookie: two))
        // The store keys by the cookie's hash, which is neither the cookie nor its CSRF token.
        let hash = ConsoleSessionPolicy.tokenHash(cookie: one)
        #expect(hash != one && !csrf.contains(hash) && hash == LicenseKey.hash(one))
        // HMAC-SHA256(key: cookie, "central-console-csrf"), as Python's hmac computes it.
        #expect(ConsoleSessionPolicy.csrfToken(cookie: "cs_test")
            == "csrf_ac26d63ccf7c41344ecbf0daa099217759280f12a1bc9bd284b6ae9ffd7056ca")
    }
}
