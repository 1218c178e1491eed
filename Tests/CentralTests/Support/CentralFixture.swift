import AsyncHTTPClient
@testable import Central
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Protocol
import Testing

/// A real SQLite file in a fresh temporary directory, a manual clock, and central's
/// configuration, ready to run a live server on a free port.
struct CentralFixture {
    static let adminToken = "test-admin-token-0123456789"

    let directory: URL
    let databasePath: String
    let store: SQLiteCentralStore
    let clock: ManualClock
    var configuration: CentralConfiguration

    /// When true the live server runs on the real clock (streaming needs time to pass);
    /// licenses are then created "now" too.
    let realTime: Bool

    init(realTime: Bool = false, configure: (inout CentralConfiguration) -> Void = { _ in }) throws {
        self.realTime = realTime
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("central-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databasePath = directory.appendingPathComponent("central.sqlite").path
        store = try SQLiteCentralStore(path: databasePath)
        clock = realTime ? ManualClock(Date()) : ManualClock()
        var configuration = CentralConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.adminToken = Self.adminToken
        // Tests pick the client address with X-Forwarded-For from loopback.
        configuration.trustedProxies = [CIDRBlock("127.0.0.0/8"), CIDRBlock("::1")].compactMap { $0 }
        // Streams tick fast in tests so checkpoints and timeouts show within test timeouts.
        configuration.stream.tickInterval = .milliseconds(200)
        // The live test client opens its one connection when the server starts and may sit on it
        // for a long test: central's HTTP timeouts are tested on their own (ConnectionHygieneTests).
        configuration.http.headerTimeout = .seconds(600)
        configuration.http.idleTimeout = .seconds(600)
        configure(&configuration)
        self.configuration = configuration
    }

    /// Another connection pool on the same database file, as a second process would have.
    func secondStore() throws -> SQLiteCentralStore {
        try SQLiteCentralStore(path: databasePath)
    }

    var administration: StoreLicenseAdministration {
        StoreLicenseAdministration(store: store, clock: clock, actor: AdminOperator(name: "test", ip: nil))
    }

    /// Creates a license directly in the store; returns its key and id.
    func createLicense(_ adjust: (inout LicenseDraft) -> Void = { _ in }) async throws -> (key: String, id: String) {
        try await TestLicense.create(with: administration, adjust)
    }

    func withLiveServer<T: Sendable>(
        logger: Logger? = nil, provider: (any SpeechProvider)? = nil, providers: ProviderRegistry? = nil,
        keyVault: ProviderKeyVault? = nil, _ body: @Sendable (LiveCentral) async throws -> T
    ) async throws -> T {
        var quiet = Logger(label: "central-test")
        quiet.logLevel = .warning
        let logger = logger ?? quiet
        let serverClock: any WallClock = realTime ? SystemWallClock() : clock
        let app = try buildApplication(
            configuration: configuration, store: store, clock: serverClock,
            providers: providers ?? ProviderRegistry(single: provider ?? DemoSpeechProvider()),
            keyVault: keyVault, logger: logger)
        return try await app.test(.live) { client in
            try await body(LiveCentral(client: client))
        }
    }
}

/// The test's view of a running central.
struct LiveCentral: Sendable {
    let client: any TestClientProtocol

    var port: Int { client.port ?? 0 }

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }

        func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            try WireCoding.decoder().decode(T.self, from: body)
        }

        var error: ErrorBody.Detail? { (try? decode(ErrorBody.self))?.error }

        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        }
    }

    func request(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil
    ) async throws -> Reply {
        try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    func admin(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, from ip: String? = nil) async throws -> Reply {
        var headers: HTTPFields = [.authorization: "Bearer \(CentralFixture.adminToken)", .contentType: "application/json"]
        if let ip { headers[xForwardedFor] = ip }
        return try await request(method, path, headers: headers, body: body)
    }

    func edge(
        _ method: HTTPRequest.Method, _ path: String, key: String, body: String? = nil, from ip: String? = nil
    ) async throws -> Reply {
        var headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
        if let ip { headers[xForwardedFor] = ip }
        return try await request(method, path, headers: headers, body: body)
    }

    func admit(key: String, device: String = "device-1", from ip: String? = nil) async throws -> Reply {
        try await edge(.post, "/v1/sessions", key: key, body: #"{"device_id":"\#(device)"}"#, from: ip)
    }
}

let xForwardedFor = HTTPField.Name("X-Forwarded-For") ?? .via
let xLicenseKey = HTTPField.Name("X-License-Key") ?? .via
