import Hummingbird
import CoreMetrics

/// Hummingbird's `MetricsMiddleware` makes its handles on first use from `MetricsSystem.factory`,
/// which is process-wide. This binds the application's factory (swift-metrics' task-local one)
/// around the rest of the chain and around writing the body, where that middleware counts the
/// response, so its series land in this application's registry.
struct MetricsFactoryMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let factory = factory
        var response = try await withMetricsFactory(factory) { try await next(request, context) }
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            // The closure swift-metrics binds the factory around is `nonisolated(nonsending)` and
            // `write` is not, so the checker sees the writer sent across; it is used by this one
            // awaited call and nothing else meanwhile.
            nonisolated(unsafe) let writer = writer
            try await withMetricsFactory(factory) { try await body.write(writer) }
        }
        return response
    }
}
