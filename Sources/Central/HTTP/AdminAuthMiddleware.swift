import Crypto
import Foundation
import Hummingbird
import Protocol

/// Guards `/v1/admin`. A request proves who it is with a bearer token (the shared admin token,
/// compared in constant time, or a named operator's token) or with the console's session
/// cookie; a cookie request that changes anything must also carry the session's CSRF token and,
/// when the browser sends one, an `Origin` of this server. The operator's role must then cover
/// what the request does (`ConsolePermission`). An address that failed too often is refused
/// before its token is even looked at.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = CentralRequestContext
    let authenticator: AdminAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard let needed = ConsolePermission.required(method: request.method.rawValue, path: request.uri.path) else {
            throw APIError(
                .badRequest, .invalidPath, "Use the path exactly as documented: no empty, '.' or '..' segments, no trailing '/'.")
        }
        let signedIn = try await authenticator.authenticate(request, context)
        guard signedIn.role >= needed else {
            throw APIError(
                .forbidden, .roleForbidden,
                "This needs the '\(needed.rawValue)' role; '\(signedIn.name)' has '\(signedIn.role.rawValue)'.")
        }
        context.adminOperator = signedIn
        return try await next(request, context)
    }
}

/// Who is behind an admin request: the rules of `AdminAuthMiddleware`, shared with the
/// console's sign-in (which takes the same tokens in its body).
struct AdminAuthenticator: Sendable {
    let tokenDigest: [UInt8]
    let services: CentralServices
    let sessions: ConsoleSessionBook

    init(adminToken: String, services: CentralServices, sessions: ConsoleSessionBook) {
        self.tokenDigest = Array(SHA256.hash(data: Data(adminToken.utf8)))
        self.services = services
        self.sessions = sessions
    }

    func authenticate(_ request: Request, _ context: CentralRequestContext) async throws -> AuthenticatedOperator {
        if let token = request.bearerToken {
            return try await operatorFor(token: token, request, context)
        }
        if let cookie = request.cookies[ConsoleSessionBook.cookieName]?.value, !cookie.isEmpty {
            guard let session = try await sessions.session(cookie: cookie, now: services.clock.now()) else {
                throw APIError(.unauthorized, .consoleSessionExpired, "The console session has ended. Sign in again.")
            }
            if !Self.isRead(request.method) { try Self.checkCSRF(request, session: session) }
            return session.signedIn
        }
        try refuseIfLimited(request, context)
        throw failure(request, context)
    }

    /// A token as the API's bearer or the console's sign-in presents it.
    func operatorFor(token: String, _ request: Request, _ context: CentralRequestContext) async throws -> AuthenticatedOperator {
        try refuseIfLimited(request, context)
        if SecretComparison.equal(token, digest: tokenDigest) {
            // The shared token names its person in X-Actor (the CLI sends `cli:<user>`).
            let name = request.header("x-actor").map { String($0.prefix(100)) } ?? "admin-api"
            return AuthenticatedOperator(name: name, role: .admin, sharedToken: true)
        }
        // Looked up by hash: the store never sees a token, and a hash lookup leaks nothing useful.
        if token.hasPrefix("op_"), token.count <= 100,
           let account = try await services.store.operatorAccount(tokenHash: LicenseKey.hash(token))
        {
            return AuthenticatedOperator(name: account.name, role: account.role, sharedToken: false)
        }
        throw failure(request, context)
    }

    private func refuseIfLimited(_ request: Request, _ context: CentralRequestContext) throws {
        let ip = services.clientIP(request, context)
        if let retry = services.adminAuthLimiter.retryAfter(ip: ip, now: services.clock.now()) {
            throw APIError(.tooManyRequests, .rateLimited, "Too many failed admin authentications from this address. Try again later.", retryAfterSeconds: retry)
        }
    }

    private func failure(_ request: Request, _ context: CentralRequestContext) -> APIError {
        services.adminAuthLimiter.recordFailure(ip: services.clientIP(request, context), now: services.clock.now())
        services.metrics.recordAuthFailure(kind: "admin")
        return APIError(.unauthorized, .adminUnauthorized, "Send the admin token or an operator token in 'Authorization: Bearer <token>', or sign in to the console.")
    }

    static func isRead(_ method: HTTPRequest.Method) -> Bool { method == .get || method == .head }

    /// The CSRF token in `X-CSRF-Token`, and no foreign `Origin`: a page elsewhere can neither
    /// read the token nor send this server's origin.
    static func checkCSRF(_ request: Request, session: ConsoleSessionBook.Session) throws {
        guard let presented = request.header("x-csrf-token"),
              SecretComparison.equal(presented, digest: Array(SHA256.hash(data: Data(session.csrfToken.utf8))))
        else {
            throw APIError(.forbidden, .csrfRejected, "Missing or wrong CSRF token; reload the console.")
        }
        try checkOrigin(request)
    }

    /// Any `Origin` the browser sends must be this server's own.
    static func checkOrigin(_ request: Request) throws {
        if let origin = request.headers[.origin] {
            guard let host = request.head.authority, origin == "http://\(host)" || origin == "https://\(host)" else {
                throw APIError(.forbidden, .csrfRejected, "The request came from another site's page.")
            }
        }
    }
}
