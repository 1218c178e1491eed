import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Protocol

/// The administration operations through a running central's admin API (`central … --url`).
public struct HTTPLicenseAdministration: LicenseAdministration {
    let baseURL: URL
    let token: String
    let actorName: String
    let client: HTTPClient

    public init(baseURL: URL, token: String, actorName: String, client: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.token = token
        self.actorName = actorName
        self.client = client
    }

    /// A refusal from the server, with its stable code.
    public struct RemoteError: Error, CustomStringConvertible {
        public var status: Int
        public var code: ErrorCode
        public var message: String
        public var description: String { "\(code): \(message) (HTTP \(status))" }
    }

    public func createLicense(_ draft: LicenseDraft) async throws -> CreatedLicense {
        try await send(.POST, "/v1/admin/licenses", body: draft.json)
    }

    public func listLicenses(_ filter: LicenseFilter) async throws -> LicenseListing {
        var query: [(String, String)] = [("limit", String(filter.limit))]
        if let status = filter.status { query.append(("status", status.rawValue)) }
        if let plan = filter.plan { query.append(("plan", plan)) }
        if let q = filter.query { query.append(("q", q)) }
        if let cursor = filter.cursor { query.append(("cursor", cursor)) }
        return try await send(.GET, "/v1/admin/licenses", query: query)
    }

    public func license(id: String) async throws -> LicenseView {
        try await send(.GET, "/v1/admin/licenses/\(escape(id))")
    }

    public func updateLicense(id: String, _ patch: LicensePatch) async throws -> LicenseView {
        try await send(.PATCH, "/v1/admin/licenses/\(escape(id))", body: patch.json)
    }

    public func deleteLicense(id: String) async throws {
        _ = try await raw(.DELETE, "/v1/admin/licenses/\(escape(id))", query: [], body: nil)
    }

    public func perform(_ action: LicenseAction, id: String) async throws -> LicenseView {
        let path = "/v1/admin/licenses/\(escape(id))/\(action.name)"
        switch action {
        case .extend(let days): return try await send(.POST, path, body: .object(["days": .number(Double(days))]))
        case .topup(let minutes): return try await send(.POST, path, body: .object(["minutes": .number(minutes)]))
        default: return try await send(.POST, path)
        }
    }

    public func usage(_ query: UsageQuery) async throws -> UsageReport {
        try await send(.GET, "/v1/admin/usage", query: Self.items(query))
    }

    static func items(_ query: UsageQuery) -> [(String, String)] {
        [("from", query.from), ("to", query.to), ("license_id", query.licenseID)].compactMap { name, value in value.map { (name, $0) } }
    }

    public func sessionAccounts(_ query: UsageQuery, thresholdMs: Int64, flaggedOnly: Bool) async throws -> SessionAccountReport {
        var items = Self.items(query) + [("threshold_ms", String(thresholdMs))]
        if flaggedOnly { items.append(("flagged", "true")) }
        return try await send(.GET, "/v1/admin/usage/sessions", query: items)
    }

    struct AuditBody: Decodable { var entries: [AuditEntry] }

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        var items: [(String, String)] = [("limit", String(query.limit))]
        if let licenseID = query.licenseID { items.append(("license_id", licenseID)) }
        if let before = query.before { items.append(("before", String(before))) }
        let body: AuditBody = try await send(.GET, "/v1/admin/audit", query: items)
        return body.entries
    }

    struct PlansBody: Decodable { var plans: [Plan] }

    public func plans() async throws -> [Plan] {
        let body: PlansBody = try await send(.GET, "/v1/admin/plans")
        return body.plans
    }

    public func savePlan(_ plan: Plan) async throws -> Plan {
        var object: [String: JSONValue] = [
            "validity_days": .number(Double(plan.validityDays)), "minutes": .number(plan.minutes),
            "max_concurrent": .number(Double(plan.maxConcurrent)), "max_devices": .number(Double(plan.maxDevices)),
            "description": .string(plan.description),
        ]
        object["session_limit"] = plan.sessionLimit.map { .number(Double($0)) }
        object["daily_minutes"] = plan.dailyMinutes.map(JSONValue.number)
        object["provider"] = plan.provider.map(JSONValue.string)
        object["chat"] = plan.chat?.json
        return try await send(.PUT, "/v1/admin/plans/\(escape(plan.name))", body: .object(object))
    }

    // MARK: Transport

    private func send<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil
    ) async throws -> T {
        let data = try await raw(method, path, query: query, body: body)
        return try WireCoding.decoder().decode(T.self, from: data)
    }

    private func raw(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: JSONValue?) async throws -> Data {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        if !query.isEmpty { components?.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components?.url else { throw RemoteError(status: 0, code: .invalidQuery, message: "bad URL") }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "X-Actor", value: actorName)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try WireCoding.encoder().encode(body)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let data = Data(buffer: bytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: data) {
                throw RemoteError(status: Int(response.status.code), code: error.error.code, message: error.error.message)
            }
            throw RemoteError(status: Int(response.status.code), code: .internalError, message: "unexpected response")
        }
        return data
    }

    private func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}
