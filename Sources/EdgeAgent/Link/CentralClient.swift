import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Protocol

/// The edge's HTTP conversation with central: health, quota, admission. The license key goes
/// in a header only.
public struct CentralClient: Sendable {
    public let baseURL: URL
    let licenseKey: String
    let client: HTTPClient

    /// Central refused, with its stable code (or a transport failure as `central_unreachable`).
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var status: Int
        public var code: ErrorCode
        public var message: String
        public var retryAfterSeconds: Int?

        public var description: String { "\(code): \(message)" }
    }

    public init(baseURL: URL, licenseKey: String, client: HTTPClient) {
        self.baseURL = baseURL
        self.licenseKey = licenseKey
        self.client = client
    }

    /// TLS that trusts the system roots, or only the CA in `caFile` when given (for HTTP and the
    /// stream WebSocket alike).
    public static func makeTLSConfiguration(caFile: String?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        return tls
    }

    public static func makeHTTPClient(caFile: String?) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(tlsConfiguration: try makeTLSConfiguration(caFile: caFile))
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func isReachable() async -> Bool {
        guard let response = try? await client.execute(HTTPClientRequest(url: url("/healthz")), timeout: .seconds(5)) else {
            return false
        }
        return response.status == .ok
    }

    public func quota() async throws(Refusal) -> QuotaSnapshot {
        try await send(.GET, "/v1/license/quota", body: nil as [String: String]?)
    }

    /// The serving provider and its language pairs.
    public func languages() async throws(Refusal) -> LanguageCatalog {
        try await send(.GET, "/v1/providers", body: nil as [String: String]?)
    }

    /// The license's latest request for more minutes and its answer.
    public func latestMinutesRequest() async throws(Refusal) -> MinutesRequestReply {
        try await send(.GET, "/v1/license/minutes-requests/latest", body: nil as [String: String]?)
    }

    public func requestMinutes(_ minutes: Double, note: String) async throws(Refusal) -> MinutesRequestReply {
        try await send(.POST, "/v1/license/minutes-requests", body: MinutesAsked(minutes: minutes, note: note))
    }

    struct MinutesAsked: Encodable {
        var minutes: Double
        var note: String
    }

    public func admit(deviceID: String, holder: String?, resumeSessionID: String? = nil) async throws(Refusal) -> SessionGrant {
        var body: [String: String] = ["device_id": deviceID]
        body["holder"] = holder
        body["resume_session_id"] = resumeSessionID
        return try await send(.POST, "/v1/sessions", body: body)
    }

    static let unreachable = ErrorCode("central_unreachable")

    private func send<T: Decodable, Body: Encodable>(_ method: HTTPMethod, _ path: String, body: Body?) async throws(Refusal) -> T {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(licenseKey)")
        if let body, let data = try? JSONEncoder().encode(body) {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        let data: Data
        let status: Int
        let retryAfter: Int?
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init)
            data = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        } catch {
            throw Refusal(status: 0, code: Self.unreachable, message: "central at \(baseURL.absoluteString) is unreachable: \(error)", retryAfterSeconds: nil)
        }
        guard (200..<300).contains(status) else {
            let detail = (try? JSONDecoder().decode(ErrorBody.self, from: data))?.error
            throw Refusal(
                status: status, code: detail?.code ?? .internalError,
                message: detail?.message ?? "central answered HTTP \(status)", retryAfterSeconds: retryAfter)
        }
        do {
            return try WireCoding.decoder().decode(T.self, from: data)
        } catch {
            throw Refusal(status: status, code: .malformedMessage, message: "central's answer could not be read: \(error)", retryAfterSeconds: nil)
        }
    }

    private func url(_ path: String) -> String {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }
}
