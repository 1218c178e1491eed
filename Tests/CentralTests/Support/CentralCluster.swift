import AsyncHTTPClient
@testable import Central
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Several real `central` processes sharing one fresh PostgreSQL database, behind a real nginx
/// load balancer (`NginxLoadBalancer`), as a vendor would run them: each its own
/// `CENTRAL_INSTANCE_ID`, nginx (127.0.0.1) in `TRUSTED_PROXIES`. `with` tears everything
/// down when its body ends, pass or fail.
struct CentralCluster: Sendable {
    let databaseURL: String
    /// The same database, for the test's own reads and for creating licenses.
    let store: PostgresCentralStore
    let instances: [CentralProcess]
    let balancer: NginxLoadBalancer
    /// A client of its own, so that many requests can really run at once (HTTPClient.shared
    /// queues beyond 8 connections a host).
    let http: HTTPClient

    /// The instances' own addresses, in order.
    var instanceURLs: [String] { instances.map { "http://127.0.0.1:\($0.port)" } }

    /// `CENTRAL_INSTANCE_ID` of instance `index`.
    static func instanceID(_ index: Int) -> String { "central-\(index + 1)" }

    /// Starts `count` instances together (their migrations meet under the advisory lock), waits
    /// until each serves, then puts nginx in front of them and runs `body`.
    static func with<T: Sendable>(
        instances count: Int = 3, environment: [String: String] = [:], balancerAlsoOn: String? = nil,
        _ body: (CentralCluster) async throws -> T
    ) async throws -> T {
        let settings = try await PostgresTestServer.createDatabase()
        let databaseURL = settings.description
        let store = PostgresCentralStore(client: await PostgresTestServer.client(settings), logger: PostgresTestServer.logger)
        var instances: [CentralProcess] = []
        var balancer: NginxLoadBalancer?
        let http = HTTPClient(configuration: .init(connectionPool: .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
        func tearDown() async {
            balancer?.stop()
            for instance in instances { instance.stop() }
            try? await http.shutdown()
        }
        do {
            for index in 0..<count {
                let settings = ["TRUSTED_PROXIES": "127.0.0.1/32", "CENTRAL_INSTANCE_ID": instanceID(index)]
                instances.append(try CentralProcess(
                    databaseURL: databaseURL, port: CentralProcess.freePort(), adminToken: CentralFixture.adminToken,
                    environment: settings.merging(environment) { $1 }))
            }
            for instance in instances { try await instance.waitUntilServing(timeout: .seconds(60)) }
            balancer = try await NginxLoadBalancer(upstreamPorts: instances.map(\.port), alsoListenOn: balancerAlsoOn)
            try await store.migrate()
            let cluster = CentralCluster(
                databaseURL: databaseURL, store: store, instances: instances, balancer: try #require(balancer), http: http)
            let result = try await body(cluster)
            await tearDown()
            return result
        } catch {
            await tearDown()
            throw error
        }
    }

    /// One request to `baseURL` (an instance's or the balancer's).
    func request(
        _ method: HTTPRequest.Method, _ baseURL: String, _ path: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> LiveCentral.Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method.rawValue)
        request.headers.add(contentsOf: headers)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        var fields = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return LiveCentral.Reply(status: HTTPResponse.Status(code: Int(response.status.code)), headers: fields, body: Data(buffer: bytes))
    }

    func admin(_ method: HTTPRequest.Method, _ baseURL: String, _ path: String, body: String? = nil) async throws -> LiveCentral.Reply {
        try await request(method, baseURL, path, headers: [("Authorization", "Bearer \(CentralFixture.adminToken)")], body: body)
    }

    /// `POST /v1/sessions`; `forwardedFor` is sent as `X-Forwarded-For` (nginx appends its peer);
    /// `resume` asks to continue that session.
    func admit(
        key: String, device: String, via baseURL: String, forwardedFor: String? = nil, resume: String? = nil
    ) async throws -> LiveCentral.Reply {
        var headers = [("Authorization", "Bearer \(key)")]
        if let forwardedFor { headers.append(("X-Forwarded-For", forwardedFor)) }
        let body = resume.map { #"{"device_id":"\#(device)","resume_session_id":"\#($0)"}"# } ?? #"{"device_id":"\#(device)"}"#
        return try await request(.post, baseURL, "/v1/sessions", headers: headers, body: body)
    }

    /// A license created straight in the database (trial-basic, adjusted).
    func createLicense(_ adjust: (inout LicenseDraft) -> Void = { _ in }) async throws -> (key: String, id: String) {
        let administration = StoreLicenseAdministration(
            store: store, clock: SystemWallClock(), actor: AdminOperator(name: "test", ip: nil))
        return try await TestLicense.create(with: administration, adjust)
    }

    func release(key: String, session: String, via baseURL: String) async throws -> LiveCentral.Reply {
        try await request(.delete, baseURL, "/v1/sessions/\(session)", headers: [("Authorization", "Bearer \(key)")])
    }
}
