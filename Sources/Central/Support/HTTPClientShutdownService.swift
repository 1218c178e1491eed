import AsyncHTTPClient
import ServiceLifecycle

/// Owns an outgoing HTTP client (the chat proxy's, the webhooks'): shut down when central stops
/// (an `HTTPClient` must be).
struct HTTPClientShutdownService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
