import AsyncHTTPClient
import Foundation
import NIOCore
import Protocol
import Testing

/// Three real `central` processes on one PostgreSQL database, some requests straight to an
/// instance and some through a real nginx load balancer (issue 13): the license's limits hold
/// across instances, however the requests are spread.
@Suite(.bounded, .postgresTestScope, .enabled(if: !PostgresTestServer.optedOut, "CENTRAL_TEST_SKIP_POSTGRES=1"))
struct MultiInstanceAdmissionTests {
    /// One admission of a race: where it was sent, and what it got.
    struct Attempt: Sendable {
        let index: Int
        let viaBalancer: Bool
        let status: Int
        let code: ErrorCode?
        let session: String?
        let clientIP: String?
    }

    /// 50 admissions against `max_concurrent = 2`, half sent straight to the three instances and
    /// half through nginx, all at once: exactly 2 win, 48 get `429 concurrency_limit`; winners
    /// through nginx carry the client's address (X-Forwarded-For from a trusted proxy). Once the
    /// two are released (one through each path), a second race again admits exactly 2. Each
    /// instance counts its own decisions under its `instance_id`; the lease gauge is the
    /// database's, the same on every instance.
    @Test func fiftyAdmissionsRacingAcrossThreeInstancesAndNginxAdmitExactlyTwo() async throws {
        try await CentralCluster.with(instances: 3) { cluster in
            let created = try await cluster.admin(
                .post, cluster.instanceURLs[0], "/v1/admin/licenses",
                body: #"{"customer_name":"Race GmbH","concurrent":2,"devices":200,"sessions":1000}"#)
            #expect(created.status == .created, "\(created.text)")
            let license = try created.json()
            let key = try #require(license["key"] as? String)
            let id = try #require((license["license"] as? [String: Any])?["id"] as? String)

            for round in 0..<2 {
                let attempts = try await race(cluster, key: key, round: round, count: 50)
                let winners = attempts.filter { $0.status == 201 }
                #expect(winners.count == 2, "round \(round): \(winners.map(\.index)) admitted")
                let refused = attempts.filter { $0.status == 429 && $0.code == .concurrencyLimit }
                #expect(refused.count == 48, "round \(round): \(attempts.filter { $0.status != 201 && $0.code != .concurrencyLimit }.map { "\($0.status) \(String(describing: $0.code))" })")
                for winner in winners {
                    #expect(winner.clientIP == (winner.viaBalancer ? forwardedAddress(winner.index) : "127.0.0.1"))
                }
                let detail = try await cluster.admin(.get, cluster.balancer.url, "/v1/admin/licenses/\(id)").json()
                #expect((detail["active_leases"] as? [Any])?.count == 2)
                // central_active_leases is the database's count: every instance reports both.
                for url in cluster.instanceURLs {
                    let metrics = PrometheusText(try await cluster.request(.get, url, "/metrics").text)
                    #expect(metrics.value("central_active_leases") == 2, "\(url)")
                }
                // Release one lease through nginx and the other straight to an instance.
                for (position, winner) in winners.enumerated() {
                    let session = try #require(winner.session)
                    let via = position == 0 ? cluster.balancer.url : cluster.instanceURLs[position % 3]
                    let released = try await cluster.release(key: key, session: session, via: via)
                    #expect(released.status == .noContent, "\(released.text)")
                }
                let after = try await cluster.admin(.get, cluster.instanceURLs[2], "/v1/admin/licenses/\(id)").json()
                #expect((after["active_leases"] as? [Any])?.count == 0)
            }

            // Every decision was counted once, by the instance that made it.
            var admitted = 0.0, refused = 0.0
            for (index, url) in cluster.instanceURLs.enumerated() {
                let metrics = PrometheusText(try await cluster.request(.get, url, "/metrics").text)
                let labels = ["instance_id": CentralCluster.instanceID(index)]
                admitted += metrics.value("central_admissions_total", labels.merging(["result": "admitted"]) { $1 }) ?? 0
                refused += metrics.value("central_admissions_total", labels.merging(["result": "concurrency_limit"]) { $1 }) ?? 0
            }
            #expect(admitted == 4 && refused == 96, "admitted \(admitted), refused \(refused)")
        }
    }

    /// nginx moves a request whose connection a stopped instance refuses to the next instance:
    /// with one of three instances down, every request through it still succeeds.
    @Test func requestsThroughNginxFallOverFromAStoppedInstance() async throws {
        try await CentralCluster.with(instances: 3) { cluster in
            #expect(cluster.instances[1].stop() == 0)
            for attempt in 0..<12 {
                let ready = try await cluster.request(.get, cluster.balancer.url, "/readyz")
                #expect(ready.status == .ok, "attempt \(attempt): \(ready.status) \(ready.text)\n\(cluster.balancer.errorLog)")
            }
            // It did meet the stopped instance, and moved on.
            #expect(cluster.balancer.errorLog.contains("Connection refused"), "\(cluster.balancer.errorLog)")
            // Reloaded without the stopped instance, nginx no longer tries it at all.
            try await cluster.balancer.reload(upstreamPorts: [cluster.instances[0].port, cluster.instances[2].port])
            let refusals = cluster.balancer.errorLog.components(separatedBy: "Connection refused").count
            for attempt in 0..<6 {
                let ready = try await readyRetryingAStaleConnection(cluster)
                #expect(ready.status == .ok, "after the reload, attempt \(attempt): \(ready.status)")
            }
            #expect(cluster.balancer.errorLog.components(separatedBy: "Connection refused").count == refusals)
        }
    }

    /// `GET /readyz` through nginx, once more if it failed on a kept-alive connection that the
    /// reload's old worker closed just as the request went out (nginx closes idle connections
    /// when it reloads; a client retries an idempotent request then).
    func readyRetryingAStaleConnection(_ cluster: CentralCluster) async throws -> LiveCentral.Reply {
        do {
            return try await cluster.request(.get, cluster.balancer.url, "/readyz")
        } catch let error as HTTPClientError where error == .remoteConnectionClosed {
            return try await cluster.request(.get, cluster.balancer.url, "/readyz")
        } catch ChannelError.ioOnClosedChannel {
            return try await cluster.request(.get, cluster.balancer.url, "/readyz")
        }
    }

    /// The address a request through nginx claims to come from (nginx appends 127.0.0.1, which
    /// central trusts, so central takes this one).
    func forwardedAddress(_ index: Int) -> String { "203.0.113.\(index + 1)" }

    /// `count` admissions of `key` at once from distinct devices; even ones straight to the
    /// instances in turn, odd ones through nginx.
    func race(_ cluster: CentralCluster, key: String, round: Int, count: Int) async throws -> [Attempt] {
        try await withThrowingTaskGroup(of: Attempt.self) { group in
            for index in 0..<count {
                let viaBalancer = index % 2 == 1
                let url = viaBalancer ? cluster.balancer.url : cluster.instanceURLs[(index / 2) % cluster.instances.count]
                let forwarded = viaBalancer ? forwardedAddress(index) : nil
                group.addTask {
                    let reply = try await cluster.admit(key: key, device: "race-\(round)-\(index)", via: url, forwardedFor: forwarded)
                    let object = try? reply.json()
                    return Attempt(
                        index: index, viaBalancer: viaBalancer, status: reply.status.code, code: reply.error?.code,
                        session: object?["session_id"] as? String,
                        clientIP: (object?["lease"] as? [String: Any])?["client_ip"] as? String)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }
}
