@testable import Central
import Foundation
import HTTPTypes
import Protocol
import Testing

/// The console's sign-in, session cookie, CSRF checks and roles, on a live server.
@Suite(.bounded) struct ConsoleAPITests {
    let csrfHeader = HTTPField.Name("X-CSRF-Token") ?? .via

    struct SignedIn {
        var cookie: String
        var csrf: String
        var setCookie: String
    }

    func signIn(_ central: LiveCentral, token: String = CentralFixture.adminToken, name: String? = nil) async throws -> SignedIn {
        let body = name.map { #"{"token":"\#(token)","name":"\#($0)"}"# } ?? #"{"token":"\#(token)"}"#
        let reply = try await central.request(.post, "/v1/console/session", headers: [.contentType: "application/json"], body: body)
        #expect(reply.status == .created, "\(reply.text)")
        let setCookie = try #require(reply.headers[.setCookie])
        let value = try #require(setCookie.split(separator: ";").first.map(String.init))
        let csrf = try #require(try reply.json()["csrf_token"] as? String)
        return SignedIn(cookie: value, csrf: csrf, setCookie: setCookie)
    }

    func withCookie(_ session: SignedIn, csrf: Bool = true, origin: String? = nil) -> HTTPFields {
        var headers: HTTPFields = [.cookie: session.cookie, .contentType: "application/json"]
        if csrf { headers[csrfHeader] = session.csrf }
        if let origin { headers[.origin] = origin }
        return headers
    }

    @Test func signInSetsAStrictHttpOnlyCookieThatWorksForReads() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let session = try await signIn(central, name: "maria")
            let flags = session.setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(flags.contains("HttpOnly") && flags.contains("SameSite=Strict") && flags.contains("Path=/"))
            // Plain HTTP without CONSOLE_SECURE_COOKIE: not Secure (the browser would drop it).
            #expect(!flags.contains("Secure"))
            #expect(session.cookie.hasPrefix("central_console=cs_"))
            let listed = try await central.request(.get, "/v1/admin/licenses", headers: withCookie(session, csrf: false))
            #expect(listed.status == .ok, "\(listed.text)")
            let current = try await central.request(.get, "/v1/console/session", headers: withCookie(session, csrf: false))
            #expect(try current.json()["name"] as? String == "admin-token:maria")
            #expect(try current.json()["role"] as? String == "admin")
            let trail = try await fixture.store.audit(AuditQuery())
            #expect(trail.first?.action == "console.sign_in" && trail.first?.actor == "admin-token:maria")
        }
    }

    @Test func theCookieIsSecureWhenAProxyEndsTLS() async throws {
        let fixture = try CentralFixture { $0.console.secureCookie = true }
        try await fixture.withLiveServer { central in
            let session = try await signIn(central)
            #expect(session.setCookie.contains("; Secure"))
        }
    }

    @Test func changesThroughTheCookieNeedTheCSRFTokenAndOurOrigin() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            let session = try await signIn(central)
            let missing = try await central.request(.post, "/v1/admin/licenses/\(id)/suspend", headers: withCookie(session, csrf: false))
            #expect(missing.status == .forbidden && missing.error?.code == .csrfRejected)
            var wrong = withCookie(session)
            wrong[csrfHeader] = "csrf_0000"
            let forged = try await central.request(.post, "/v1/admin/licenses/\(id)/suspend", headers: wrong)
            #expect(forged.status == .forbidden && forged.error?.code == .csrfRejected)
            let foreign = try await central.request(
                .post, "/v1/admin/licenses/\(id)/suspend", headers: withCookie(session, origin: "https://evil.example"))
            #expect(foreign.status == .forbidden && foreign.error?.code == .csrfRejected)
            #expect(try await fixture.store.license(id: id)?.status == .active)

            let done = try await central.request(.post, "/v1/admin/licenses/\(id)/suspend", headers: withCookie(session))
            #expect(done.status == .ok, "\(done.text)")
            #expect(try await fixture.store.license(id: id)?.status == .suspended)
            #expect(try await fixture.store.audit(AuditQuery(licenseID: id)).first?.actor == "admin-token")
        }
    }

    @Test func rolesLimitWhatAnOperatorMayDo() async throws {
        let fixture = try CentralFixture()
        let (_, id) = try await fixture.createLicense()
        try await fixture.withLiveServer { central in
            var tokens: [String: String] = [:]
            for (name, role) in [("vera", "viewer"), ("otto", "operator")] {
                let made = try await central.admin(.post, "/v1/admin/operators", body: #"{"name":"\#(name)","role":"\#(role)"}"#)
                #expect(made.status == .created, "\(made.text)")
                tokens[name] = try #require(try made.json()["token"] as? String)
            }
            let stored = try await fixture.store.operators()
            #expect(stored.map(\.name) == ["otto", "vera"] && stored.allSatisfy { $0.createdBy == "admin-api" })
            func call(_ who: String, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> LiveCentral.Reply {
                try await central.request(
                    method, path, headers: [.authorization: "Bearer \(tokens[who] ?? "")", .contentType: "application/json"], body: body)
            }
            #expect(try await call("vera", .get, "/v1/admin/licenses").status == .ok)
            #expect(try await call("vera", .get, "/v1/admin/usage").status == .ok)
            let refused = try await call("vera", .post, "/v1/admin/licenses/\(id)/revoke")
            #expect(refused.status == .forbidden && refused.error?.code == .roleForbidden, "\(refused.text)")
            #expect(try await call("vera", .get, "/v1/admin/operators").error?.code == .roleForbidden)
            #expect(try await fixture.store.license(id: id)?.status == .active)

            let topped = try await call("otto", .post, "/v1/admin/licenses/\(id)/topup", #"{"minutes":5}"#)
            #expect(topped.status == .ok, "\(topped.text)")
            #expect(try await fixture.store.audit(AuditQuery(licenseID: id)).first.map { $0.actor == "otto" && $0.action == "license.topup" } == true)
            #expect(try await call("otto", .put, "/v1/admin/plans/custom", #"{"validity_days":1,"minutes":1,"max_concurrent":1,"max_devices":1}"#)
                .error?.code == .roleForbidden)
            #expect(try await call("otto", .post, "/v1/admin/webhooks", #"{"url":"http://127.0.0.1:9/","events":["license.revoked"]}"#)
                .error?.code == .roleForbidden)
            // Another spelling of the path does not walk around the role (the router ignores empty segments).
            for path in ["/v1/admin//operators", "//v1/admin/operators", "/v1//admin/operators", "/v1/admin/operators/"] {
                let sneaky = try await call("otto", .post, path, #"{"name":"mallory","role":"admin"}"#)
                #expect(sneaky.status == .badRequest && sneaky.error?.code == .invalidPath, "\(path): \(sneaky.text)")
                #expect(try await call("vera", .get, path).error?.code == .invalidPath, "\(path)")
            }
            // The router matches no route with a dot segment at all.
            #expect(try await call("otto", .post, "/v1/admin/./operators", #"{"name":"mallory","role":"admin"}"#).status == .notFound)
            #expect(try await fixture.store.operators().map(\.name) == ["otto", "vera"])

            // A viewer signed in to the console is refused the same way.
            let viewer = try await signIn(central, token: tokens["vera"] ?? "")
            let viaCookie = try await central.request(.post, "/v1/admin/licenses/\(id)/revoke", headers: withCookie(viewer))
            #expect(viaCookie.status == .forbidden && viaCookie.error?.code == .roleForbidden)

            // Disabled: the token stops working, and the console session ends at once.
            #expect(try await central.admin(.delete, "/v1/admin/operators/vera").status == .noContent)
            #expect(try await call("vera", .get, "/v1/admin/licenses").error?.code == .adminUnauthorized)
            let after = try await central.request(.get, "/v1/admin/licenses", headers: withCookie(viewer, csrf: false))
            #expect(after.status == .unauthorized && after.error?.code == .consoleSessionExpired)

            // Names that would pose as the shared token are refused.
            #expect(try await central.admin(.post, "/v1/admin/operators", body: #"{"name":"cli:root","role":"admin"}"#)
                .error?.code == .invalidValue)
            #expect(try await central.admin(.post, "/v1/admin/operators", body: #"{"name":"otto","role":"admin"}"#)
                .error?.code == .alreadyExists)
        }
    }

    @Test func anIdleSessionEndsAndSignOutEndsItAtOnce() async throws {
        let fixture = try CentralFixture { $0.console.idleTimeout = 60 }
        try await fixture.withLiveServer { central in
            let session = try await signIn(central)
            fixture.clock.advance(by: 50)
            #expect(try await central.request(.get, "/v1/admin/plans", headers: withCookie(session, csrf: false)).status == .ok)
            fixture.clock.advance(by: 50)  // 50 s after the last request: still alive
            #expect(try await central.request(.get, "/v1/admin/plans", headers: withCookie(session, csrf: false)).status == .ok)
            fixture.clock.advance(by: 61)
            let lapsed = try await central.request(.get, "/v1/admin/plans", headers: withCookie(session, csrf: false))
            #expect(lapsed.status == .unauthorized && lapsed.error?.code == .consoleSessionExpired)

            let second = try await signIn(central)
            let noToken = try await central.request(.delete, "/v1/console/session", headers: withCookie(second, csrf: false))
            #expect(noToken.error?.code == .csrfRejected)
            let out = try await central.request(.delete, "/v1/console/session", headers: withCookie(second))
            #expect(out.status == .noContent && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await central.request(.get, "/v1/admin/plans", headers: withCookie(second, csrf: false)).error?.code
                == .consoleSessionExpired)
        }
    }

    /// Rotating ADMIN_TOKEN ends the console sessions signed in with the old one, on a restart
    /// with the new token (the sessions are in the database); operators' sessions stay.
    @Test func rotatingTheAdminTokenEndsItsConsoleSessions() async throws {
        var fixture = try CentralFixture()
        let (shared, named) = try await fixture.withLiveServer { central in
            let made = try await central.admin(.post, "/v1/admin/operators", body: #"{"name":"otto","role":"operator"}"#)
            let token = try #require(try made.json()["token"] as? String)
            let shared = try await signIn(central, name: "maria")
            let named = try await signIn(central, token: token)
            return (shared, named)
        }
        try await fixture.withLiveServer { (central: LiveCentral) async throws in
            // Same token, next start: still signed in.
            #expect(try await central.request(.get, "/v1/admin/plans", headers: withCookie(shared, csrf: false)).status == .ok)
        }
        fixture.configuration.adminToken = "rotated-admin-token-9876543210"
        try await fixture.withLiveServer { central in
            let old = try await central.request(.get, "/v1/admin/plans", headers: withCookie(shared, csrf: false))
            #expect(old.status == .unauthorized && old.error?.code == .consoleSessionExpired, "\(old.text)")
            #expect(try await central.request(.get, "/v1/admin/plans", headers: withCookie(named, csrf: false)).status == .ok)
        }
    }

    /// Names may hold `@`; the console sends them percent-encoded, as any client should.
    @Test func anOperatorWithAnAtSignIsDisabledThroughItsEncodedName() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let made = try await central.admin(.post, "/v1/admin/operators", body: #"{"name":"maria@example.com","role":"viewer"}"#)
            #expect(made.status == .created, "\(made.text)")
            let disabled = try await central.admin(.delete, "/v1/admin/operators/maria%40example.com")
            #expect(disabled.status == .noContent, "\(disabled.text)")
            #expect(try await fixture.store.operators().first?.disabledAt != nil)
            #expect(try await central.admin(.delete, "/v1/admin/operators/..").status != .noContent)
        }
    }

    /// Login CSRF: another site's form cannot sign the operator's browser in as someone else.
    @Test func signInTakesOnlyJSONFromThisServersPages() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let body = #"{"token":"\#(CentralFixture.adminToken)","name":"x"}"#
            // A cross-site <form enctype="text/plain"> can send this body, but not as JSON.
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let reply = try await central.request(.post, "/v1/console/session", headers: [.contentType: type], body: body)
                #expect(reply.status == .unsupportedMediaType && reply.error?.code == .unsupportedMediaType, "\(type)")
                #expect(reply.headers[.setCookie] == nil)
            }
            let foreign = try await central.request(
                .post, "/v1/console/session", headers: [.contentType: "application/json", .origin: "http://evil.example"], body: body)
            #expect(foreign.status == .forbidden && foreign.error?.code == .csrfRejected && foreign.headers[.setCookie] == nil)
            let own = try await central.request(
                .post, "/v1/console/session", headers: [.contentType: "application/json; charset=utf-8"], body: body)
            #expect(own.status == .created)
        }
    }

    @Test func failedSignInsAreRateLimitedLikeTheAPI() async throws {
        let fixture = try CentralFixture { $0.authFailuresPerMinute = 3 }
        try await fixture.withLiveServer { central in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                let reply = try await central.request(
                    .post, "/v1/console/session", headers: [.contentType: "application/json", xForwardedFor: "203.0.113.9"],
                    body: #"{"token":"guess"}"#)
                statuses.append(reply.status)
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .unauthorized })
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
            // The right token from that address waits too; from another address it works.
            let blocked = try await central.request(
                .post, "/v1/console/session", headers: [.contentType: "application/json", xForwardedFor: "203.0.113.9"],
                body: #"{"token":"\#(CentralFixture.adminToken)"}"#)
            #expect(blocked.status == .tooManyRequests && blocked.headers[.retryAfter] != nil)
            _ = try await signIn(central)
        }
    }

    @Test func theConsolePageIsServedWithItsSecurityHeadersAndNothingElse() async throws {
        let fixture = try CentralFixture()
        try await fixture.withLiveServer { central in
            let page = try await central.request(.get, "/admin/")
            #expect(page.status == .ok && page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(try await central.request(.get, "/admin").status == .movedPermanently)
            for path in ["/admin/..%2F..%2Fetc%2Fpasswd", "/admin/Package.swift", "/admin/nope.js"] {
                #expect(try await central.request(.get, path).status == .notFound, "\(path)")
            }
        }
    }

    @Test func aCustomerAsksForMinutesAndAnOperatorApproves() async throws {
        let fixture = try CentralFixture()
        let (key, id) = try await fixture.createLicense { $0.minutes = 10 }
        try await fixture.withLiveServer { central in
            #expect(try await central.edge(.get, "/v1/license/minutes-requests/latest", key: key).decode(MinutesRequestReply.self).request == nil)
            let asked = try await central.edge(.post, "/v1/license/minutes-requests", key: key, body: #"{"minutes":30,"note":"big demo"}"#)
            #expect(asked.status == .created, "\(asked.text)")
            let notice = try #require(try asked.decode(MinutesRequestReply.self).request)
            #expect(notice.status == .pending && notice.minutes == 30 && notice.note == "big demo")
            let again = try await central.edge(.post, "/v1/license/minutes-requests", key: key, body: #"{"minutes":5}"#)
            #expect(again.status == .conflict && again.error?.code == .minutesRequestPending)
            for bad in [#"{"minutes":0}"#, #"{"minutes":"lots"}"#, #"{"minutes":5,"extra":1}"#, "not json"] {
                #expect(try await central.edge(.post, "/v1/license/minutes-requests", key: key, body: bad).status == .badRequest, "\(bad)")
            }
            #expect(try await central.edge(.post, "/v1/license/minutes-requests", key: "TRIAL-NOPE", body: #"{"minutes":5}"#).status
                == .unauthorized)

            let listed = try await central.admin(.get, "/v1/admin/minutes-requests?status=pending")
            #expect(listed.text.contains(notice.id))
            let approved = try await central.admin(
                .post, "/v1/admin/minutes-requests/\(notice.id)/approve", body: #"{"minutes":20,"answer":"here you go"}"#)
            #expect(approved.status == .ok, "\(approved.text)")
            #expect(try await fixture.store.license(id: id)?.limitMs == Milliseconds.fromMinutes(30))
            let twice = try await central.admin(.post, "/v1/admin/minutes-requests/\(notice.id)/decline", body: "{}")
            #expect(twice.status == .conflict)
            let latest = try #require(try await central.edge(.get, "/v1/license/minutes-requests/latest", key: key)
                .decode(MinutesRequestReply.self).request)
            #expect(latest.status == .approved && latest.grantedMinutes == 20 && latest.answer == "here you go")
            // The customer does not learn the operator's name.
            #expect(!(try await central.edge(.get, "/v1/license/minutes-requests/latest", key: key).text.contains("decided_by")))
            let quota = try await central.edge(.get, "/v1/license/quota", key: key).decode(QuotaSnapshot.self)
            #expect(quota.secondsLimit == 1800)

            _ = try await fixture.administration.perform(.revoke, id: id)
            #expect(try await central.edge(.post, "/v1/license/minutes-requests", key: key, body: #"{"minutes":5}"#).error?.code
                == .licenseRevoked)
        }
    }
}
