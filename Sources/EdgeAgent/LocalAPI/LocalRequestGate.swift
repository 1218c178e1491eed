import Foundation
import Hummingbird
import Protocol

/// The first thing every request to the edge meets, whatever its method or spelling:
///
/// 1. The page's own files (GET/HEAD of their exact paths) are served to anyone: they are public.
/// 2. Everything else — the API, `/ws`, any path not known here — needs an allowed Host (DNS
///    rebinding) and Origin (other pages), checked before the path is even looked at.
/// 3. Then only the canonical spelling of a path reaches the router (`//api`, `/./`, `%2F`,
///    trailing slashes are refused), so no spelling can reach a route the checks did not see.
/// 4. Requests that change state need `Content-Type: application/json`: a type no page can send
///    cross-site without a CORS preflight, which step 2 then refuses.
struct LocalRequestGate: RouterMiddleware {
    typealias Context = LocalRequestContext
    let policy: LocalOriginPolicy
    /// From `LocalRequestPath.staticAssets(under:)`.
    let staticAssets: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let reads = request.method == .get || request.method == .head
        if reads, staticAssets.contains(path) { return try await next(request, context) }
        if case .refused(let code, let message) = policy.check(host: request.head.authority, origins: request.headers[values: .origin]) {
            return LocalAPI.error(.forbidden, code, message)
        }
        guard LocalRequestPath.isCanonical(path) else {
            return LocalAPI.error(.badRequest, .invalidPath, "Use the path exactly as documented: no empty, '.' or '..' segments, no percent-encoding, no trailing '/'.")
        }
        if !reads, !JSONContentType.accepts(request.headers[values: .contentType]) {
            return LocalAPI.error(.unsupportedMediaType, .unsupportedMediaType, "Send the request with Content-Type: application/json.")
        }
        return try await next(request, context)
    }
}
