import Hummingbird
import Logging

/// One debug line per request: method, path, the names of its query parameters, status and
/// time taken. Never a query value or a header value, at any log level: clients put license
/// keys, stream tokens and the admin token there (Hummingbird's `LogRequestsMiddleware` logs the
/// whole URI, query included).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = CentralRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.logger.logLevel <= .debug else { return try await next(request, context) }
        let started = ContinuousClock.now
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
        ]
        let names = request.uri.queryParameters.map { String($0.key) }
        if !names.isEmpty {
            // Names in the order sent; a name too is client text, so it is bounded.
            metadata["query"] = .string(String(names.joined(separator: ",").prefix(200)))
        }
        do {
            let response = try await next(request, context)
            metadata["status"] = .stringConvertible(response.status.code)
            let elapsed = ContinuousClock.now - started
            metadata["ms"] = .stringConvertible(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            context.logger.debug("request", metadata: metadata)
            return response
        } catch {
            metadata["status"] = "error"
            context.logger.debug("request", metadata: metadata)
            throw error
        }
    }
}
