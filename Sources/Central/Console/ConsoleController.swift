import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Protocol

/// The console's page at `/admin/` (files bundled with central, read once at start) and its
/// sign-in at `/v1/console/session`. The page then calls the admin API with the session cookie.
struct ConsoleController {
    let services: CentralServices
    let authenticator: AdminAuthenticator
    let sessions: ConsoleSessionBook
    let assets: ConsoleAssets
    /// `Secure` on the cookie: central serves TLS itself, or CONSOLE_SECURE_COOKIE says a proxy does.
    let secureCookie: Bool

    func addRoutes(to router: Router<CentralRequestContext>) {
        router.post("/v1/console/session", use: signIn)
        router.get("/v1/console/session", use: current)
        router.delete("/v1/console/session", use: signOut)
        // The router treats `/admin` and `/admin/` as one route; the page's relative links need the slash.
        router.get("/admin") { request, context in
            request.uri.path.hasSuffix("/")
                ? try await page(request, context: context)
                : Response(status: .movedPermanently, headers: [.location: "/admin/"])
        }
        router.get("/admin/{file}", use: page)
    }

    struct SessionBody: Encodable {
        var name: String
        var role: OperatorRole
        var csrfToken: String
        var idleTimeoutSeconds: Int

        enum CodingKeys: String, CodingKey {
            case name, role
            case csrfToken = "csrf_token"
            case idleTimeoutSeconds = "idle_timeout_seconds"
        }
    }

    func sessionBody(_ session: ConsoleSessionBook.Session) -> SessionBody {
        SessionBody(
            name: session.signedIn.name, role: session.signedIn.role, csrfToken: session.csrfToken,
            idleTimeoutSeconds: Int(sessions.idleTimeout))
    }

    func cookie(_ value: String, maxAge: Int?) -> String {
        var parts = ["\(ConsoleSessionBook.cookieName)=\(value)", "Path=/", "HttpOnly", "SameSite=Strict"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if secureCookie { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }

    /// Signs in with the admin token or an operator token, under the API's failed-sign-in limit.
    @Sendable func signIn(_ request: Request, context: CentralRequestContext) async throws -> Response {
        // Login CSRF: another site's form could post a token of the attacker's choosing and sign
        // the operator's browser in as them. A form cannot send JSON, nor this server's Origin.
        guard JSONContentType.accepts(request.headers[values: .contentType]) else {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "Send the sign-in with Content-Type: application/json.")
        }
        try AdminAuthenticator.checkOrigin(request)
        let body = try await request.jsonObject(allowed: ["token", "name"], context: context)
        guard let token = try body.string("token", maxLength: 200, required: true) else {
            throw RequestValidationError(.missingField, field: "token", "Field 'token' is required.")
        }
        var signedIn = try await authenticator.operatorFor(token: token, request, context)
        if signedIn.sharedToken {
            // The shared token's holder says who they are, for the audit trail.
            let name = try body.string("name", maxLength: 64)?.trimmingCharacters(in: .whitespaces) ?? ""
            signedIn.name = name.isEmpty ? "admin-token" : "admin-token:\(name)"
        }
        let now = services.clock.now()
        guard let (value, session) = try await sessions.open(for: signedIn, now: now) else {
            throw APIError(.unauthorized, .adminUnauthorized, "This operator has been disabled.")
        }
        try await services.store.appendAudit(
            action: "console.sign_in", licenseID: nil, detail: signedIn.role.rawValue,
            actor: AdminOperator(name: signedIn.name, ip: services.clientIP(request, context)), now: now)
        var response = try jsonResponse(sessionBody(session), status: .created)
        response.headers[.setCookie] = cookie(value, maxAge: nil)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func current(_ request: Request, context: CentralRequestContext) async throws -> Response {
        guard let value = request.cookies[ConsoleSessionBook.cookieName]?.value,
              let session = try await sessions.session(cookie: value, now: services.clock.now())
        else { throw APIError(.unauthorized, .consoleSessionExpired, "Not signed in to the console.") }
        var response = try jsonResponse(sessionBody(session))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func signOut(_ request: Request, context: CentralRequestContext) async throws -> Response {
        var response = Response(status: .noContent)
        response.headers[.setCookie] = cookie("", maxAge: 0)
        guard let value = request.cookies[ConsoleSessionBook.cookieName]?.value,
              let session = try await sessions.session(cookie: value, now: services.clock.now())
        else { return response }
        try AdminAuthenticator.checkCSRF(request, session: session)
        try await sessions.close(cookie: value)
        try await services.store.appendAudit(
            action: "console.sign_out", licenseID: nil, detail: nil,
            actor: AdminOperator(name: session.signedIn.name, ip: services.clientIP(request, context)), now: services.clock.now())
        return response
    }

    @Sendable func page(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let name = context.parameters.get("file") ?? "index.html"
        guard let asset = assets.files[name] else { throw APIError(.notFound, .notFound, "No such console file.") }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .cacheControl: "no-cache",
            .contentSecurityPolicy: ConsoleAssets.contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
        ]
        if let name = HTTPField.Name("X-Frame-Options") { headers[name] = "DENY" }
        if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "no-referrer" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}

/// The console's files, read from central's bundle once: a request names one of these or
/// gets 404; no path from the network reaches the file system.
struct ConsoleAssets: Sendable {
    struct File: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    let files: [String: File]

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static func load(logger: Logger) -> ConsoleAssets {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("ConsoleWeb"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else {
            logger.warning("console files not found in the bundle; /admin/ answers 404")
            return ConsoleAssets(files: [:])
        }
        var files: [String: File] = [:]
        for name in names {
            let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
            guard let type = types[URL(fileURLWithPath: name).pathExtension],
                  let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
            else { continue }
            files[name] = File(bytes: Array(data), contentType: type)
        }
        return ConsoleAssets(files: files)
    }
}
