import Foundation
import Hummingbird
import Protocol

/// Liveness, readiness and metrics, unauthenticated, for load balancers and Prometheus.
struct OpsController {
    let services: CentralServices
    let registry: StreamRegistry

    func addRoutes(to router: Router<CentralRequestContext>) {
        router.get("/healthz") { _, _ in try jsonResponse(["status": "ok"]) }
        router.get("/readyz", use: ready)
        router.get("/metrics", use: metrics)
    }

    @Sendable func ready(_ request: Request, context: CentralRequestContext) async throws -> Response {
        do {
            try await services.store.checkReady()
            return try jsonResponse(["status": "ready"])
        } catch {
            context.logger.warning("not ready", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, .unavailable, "The database is unreachable or not migrated.")
        }
    }

    @Sendable func metrics(_ request: Request, context: CentralRequestContext) async throws -> Response {
        let leases = (try? await services.store.activeLeaseCount(now: services.clock.now())) ?? 0
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: services.metrics.render(activeLeases: leases, liveStreams: registry.count))))
    }
}
