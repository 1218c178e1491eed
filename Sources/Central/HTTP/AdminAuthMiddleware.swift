import Crypto
import Foundation
import Hummingbird
import Protocol

/// Guards `/v1/admin`: the bearer token must equal the admin token (compared in constant
/// time), and an address that failed too often is refused before its token is even looked at.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = CentralRequestContext
    let tokenDigest: [UInt8]
    let services: CentralServices

    init(adminToken: String, services: CentralServices) {
        self.tokenDigest = Array(SHA256.hash(data: Data(adminToken.utf8)))
        self.services = services
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let ip = services.clientIP(request, context)
        let now = services.clock.now()
        if let retry = services.adminAuthLimiter.retryAfter(ip: ip, now: now) {
            throw APIError(.tooManyRequests, .rateLimited, "Too many failed admin authentications from this address. Try again later.", retryAfterSeconds: retry)
        }
        guard let token = request.bearerToken, SecretComparison.equal(token, digest: tokenDigest) else {
            services.adminAuthLimiter.recordFailure(ip: ip, now: now)
            services.metrics.recordAuthFailure(kind: "admin")
            throw APIError(.unauthorized, .adminUnauthorized, "Send the admin token in 'Authorization: Bearer <token>'.")
        }
        return try await next(request, context)
    }
}
