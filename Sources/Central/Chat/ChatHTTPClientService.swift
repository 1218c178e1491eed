import AsyncHTTPClient
import ServiceLifecycle

/// Owns the chat proxy's HTTP client: shut down when central stops (an `HTTPClient` must be).
struct ChatHTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
