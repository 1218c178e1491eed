import Foundation
import HTTPTypes
import Protocol
import Testing

/// Console sessions with two real `central` processes on one PostgreSQL database and a real
/// nginx in front: an operator signed in on one instance is signed in on all of them, however the
/// balancer spreads the requests, and sign-out or disabling the operator ends it everywhere.
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct MultiInstanceConsoleTests {
    struct Signed {
        let cookie: String
        let csrf: String
    }

    func signIn(_ cluster: CentralCluster, via url: String, token: String) async throws -> Signed {
        let reply = try await cluster.request(
            .post, url, "/v1/console/session", body: #"{"token":"\#(token)","name":"maria"}"#)
        try #require(reply.status == .created, "\(reply.text)")
        let header = try #require(reply.headers[.setCookie])
        let pair = try #require(header.split(separator: ";").first)
        let cookie = String(pair.dropFirst("central_console=".count))
        let csrf = try #require(try reply.json()["csrf_token"] as? String)
        return Signed(cookie: cookie, csrf: csrf)
    }

    func headers(_ signed: Signed, csrf: Bool = true) -> [(String, String)] {
        [("Cookie", "central_console=\(signed.cookie)")] + (csrf ? [("X-CSRF-Token", signed.csrf)] : [])
    }

    @Test func aSessionSignedInOnOneInstanceWorksOnEveryOneAndEndsOnAll() async throws {
        try await CentralCluster.with(instances: 2) { cluster in
            let urls = cluster.instanceURLs
            let maria = try await signIn(cluster, via: urls[0], token: CentralFixture.adminToken)
            // Every instance, and the balancer several times over, knows the session; each
            // derives the same CSRF token from the cookie.
            for url in urls + Array(repeating: cluster.balancer.url, count: 4) {
                let reply = try await cluster.request(.get, url, "/v1/admin/plans", headers: headers(maria, csrf: false))
                #expect(reply.status == .ok, "\(url): \(reply.text)")
                let session = try await cluster.request(.get, url, "/v1/console/session", headers: headers(maria, csrf: false))
                #expect(try session.json()["csrf_token"] as? String == maria.csrf)
            }
            // A change through the other instance, with the CSRF token from the first.
            let created = try await cluster.request(
                .post, urls[1], "/v1/admin/operators", headers: headers(maria), body: #"{"name":"vera","role":"viewer"}"#)
            #expect(created.status == .created, "\(created.text)")
            let veraToken = try #require(try created.json()["token"] as? String)
            let refused = try await cluster.request(
                .post, urls[0], "/v1/admin/operators", headers: headers(maria, csrf: false), body: #"{"name":"nope","role":"viewer"}"#)
            #expect(refused.error?.code == .csrfRejected)

            // Disabling vera on one instance ends her session on the other at once.
            let vera = try await signIn(cluster, via: cluster.balancer.url, token: veraToken)
            #expect(try await cluster.request(.get, urls[0], "/v1/admin/plans", headers: headers(vera, csrf: false)).status == .ok)
            let disabled = try await cluster.request(.delete, urls[0], "/v1/admin/operators/vera", headers: headers(maria))
            #expect(disabled.status == .noContent, "\(disabled.text)")
            for url in urls {
                let reply = try await cluster.request(.get, url, "/v1/admin/plans", headers: headers(vera, csrf: false))
                #expect(reply.status == .unauthorized && reply.error?.code == .consoleSessionExpired, "\(url)")
            }

            // Signing out through one instance ends the session on the other.
            let out = try await cluster.request(.delete, urls[1], "/v1/console/session", headers: headers(maria))
            #expect(out.status == .noContent)
            let after = try await cluster.request(.get, urls[0], "/v1/admin/plans", headers: headers(maria, csrf: false))
            #expect(after.error?.code == .consoleSessionExpired)
        }
    }
}
