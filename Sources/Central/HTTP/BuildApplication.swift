import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import Protocol
import ServiceLifecycle

/// Assembles central: store, clock, middleware and every route, in one place.
public func buildApplication(
    configuration: CentralConfiguration,
    store: any CentralStore,
    clock: any WallClock = SystemWallClock(),
    provider: any SpeechProvider = DemoSpeechProvider(),
    keyVault: ProviderKeyVault? = nil,
    tls: CentralTLS? = nil,
    logger: Logger,
    streamRegistry registry: StreamRegistry = StreamRegistry(),
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    guard let adminToken = configuration.adminToken, !adminToken.isEmpty else {
        throw CentralConfiguration.ConfigurationError.invalid(
            name: "ADMIN_TOKEN", value: "", expected: "an admin token (ADMIN_TOKEN, ADMIN_TOKEN_FILE or --generate-admin-token)")
    }
    let tickets = StreamTicketBook()
    let services = CentralServices(
        store: store, clock: clock, configuration: configuration, metrics: CentralMetrics(),
        licenseAuthLimiter: AuthFailureLimiter(limit: configuration.authFailuresPerMinute),
        adminAuthLimiter: AuthFailureLimiter(limit: configuration.authFailuresPerMinute),
        clientAddress: ClientAddressResolver(trustedProxies: configuration.trustedProxies),
        observer: registry)
    let streams = StreamEnvironment(
        store: store, clock: clock, provider: provider, settings: configuration.stream, leaseTTL: configuration.leaseTTL,
        metrics: services.metrics, registry: registry, logger: logger)

    let vault = keyVault ?? ProviderKeyVault(store: store, cipher: nil, clock: clock, logger: logger)

    let router = Router(context: CentralRequestContext.self)
    // Method, path, query parameter names and status only: queries and headers carry keys and tokens.
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: ErrorResponseMiddleware())
    OpsController(services: services, registry: registry).addRoutes(to: router)
    LicenseController(services: services, registry: registry, tickets: tickets, catalog: provider.catalog).addRoutes(to: router)
    let admin = router.group("/v1/admin").add(middleware: AdminAuthMiddleware(adminToken: adminToken, services: services))
    AdminController(services: services, registry: registry).addRoutes(to: admin)
    ProviderKeyController(vault: vault, services: services).addRoutes(to: admin)

    let streamRouter = Router(context: StreamRequestContext.self)
    StreamEndpoint(environment: streams, tickets: tickets, clientAddress: services.clientAddress).addRoutes(to: streamRouter)

    // Header/body/idle timeouts, head size limits and WebSocket mask checks (HTTPConnectionGuard).
    let plain = HTTPServerBuilder.guardedHTTP1WebSocketUpgrade(
        webSocketRouter: streamRouter, webSocket: .init(maxFrameSize: ControlMessage.maxTextBytes),
        limits: configuration.http, metrics: services.metrics)
    var app = Application(
        router: router,
        server: try tls.map { try .tls(plain, tlsConfiguration: $0.serverConfiguration()) } ?? plain,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "central"),
        services: [StreamShutdownService(registry: registry)],
        onServerRunning: onServerRunning,
        logger: logger)
    app.beforeServerStarts {
        // Sessions a crash left open are billed up to their last checkpoint; their leases go.
        let settled = try await store.settleOpenStreamSessions(now: clock.now())
        if settled > 0 { logger.notice("settled sessions left open by a previous run", metadata: ["count": "\(settled)"]) }
        // The same series as live stops, so a dashboard sees sessions a crash ended.
        for _ in 0..<settled { services.metrics.recordStreamEvent("stopped_\(ErrorCode.serverRestart.rawValue)") }
    }
    return app
}

/// On graceful shutdown, stops every live stream so each bills its last audio, frees its lease
/// and tells its edge (`stopped`, `server_shutdown`). It must shut down before the HTTP server
/// does, or the server closes the sockets first: `central serve` runs it after the application
/// in its own service group (groups shut down in reverse order).
public struct StreamShutdownService: Service {
    let registry: StreamRegistry

    public init(registry: StreamRegistry) {
        self.registry = registry
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await registry.stopAll()
    }
}
