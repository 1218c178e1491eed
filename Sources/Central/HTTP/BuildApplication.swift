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
    providers: ProviderRegistry = ProviderRegistry(single: DemoSpeechProvider()),
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
    let tickets = StreamTicketBook(store: store)
    let services = CentralServices(
        store: store, clock: clock, configuration: configuration,
        metrics: CentralMetrics(
            providers: providers.names, chatUpstreams: configuration.providers.chat.upstreams.map(\.name),
            instance: configuration.resolvedInstanceID),
        licenseAuthLimiter: AuthFailureLimiter(limit: configuration.authFailuresPerMinute),
        adminAuthLimiter: AuthFailureLimiter(limit: configuration.authFailuresPerMinute),
        clientAddress: ClientAddressResolver(trustedProxies: configuration.trustedProxies),
        observer: registry)
    let streams = StreamEnvironment(
        store: store, clock: clock, providers: providers, settings: configuration.stream, leaseTTL: configuration.leaseTTL,
        instanceID: configuration.resolvedInstanceID, metrics: services.metrics, registry: registry, logger: logger)
    let instance = InstanceHeartbeatService(
        store: store, clock: clock, instanceID: configuration.resolvedInstanceID, lapse: configuration.instanceLapse,
        interval: .seconds(1), metrics: services.metrics, logger: logger)

    let vault = keyVault ?? ProviderKeyVault(store: store, cipher: nil, clock: clock, logger: logger)
    let chatSettings = configuration.providers.chat
    let chatHTTP = chatSettings.upstreams.isEmpty ? nil : ChatUpstreamClient.makeHTTPClient(settings: chatSettings)

    let router = Router(context: CentralRequestContext.self)
    // Method, path, query parameter names and status only: queries and headers carry keys and tokens.
    router.add(middleware: RequestLogMiddleware())
    // Requests by route template, method and status, after errors have become responses.
    router.add(middleware: MetricsFactoryMiddleware(factory: services.metrics.factory))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorResponseMiddleware())
    OpsController(services: services, registry: registry).addRoutes(to: router)
    LicenseController(services: services, registry: registry, tickets: tickets, providers: providers).addRoutes(to: router)
    let consoleSessions = ConsoleSessionBook(
        store: services.store, policy: ConsoleSessionPolicy(idleTimeout: configuration.console.idleTimeout),
        adminToken: adminToken)
    let authenticator = AdminAuthenticator(adminToken: adminToken, services: services, sessions: consoleSessions)
    let admin = router.group("/v1/admin").add(middleware: AdminAuthMiddleware(authenticator: authenticator))
    AdminController(services: services, registry: registry).addRoutes(to: admin)
    ProviderKeyController(vault: vault, services: services).addRoutes(to: admin)
    OperatorController(services: services).addRoutes(to: admin)
    let webhookSeal = WebhookSecretSeal(cipher: vault.cipher)
    WebhookController(services: services, seal: webhookSeal).addRoutes(to: admin)
    let minutesRequests = MinutesRequestController(services: services)
    minutesRequests.addAdminRoutes(to: admin)
    minutesRequests.addLicenseRoutes(to: router)
    ConsoleController(
        services: services, authenticator: authenticator, sessions: consoleSessions,
        assets: ConsoleAssets.load(logger: logger), secureCookie: tls != nil || configuration.console.secureCookie
    ).addRoutes(to: router)
    let webhookHTTP = WebhookDispatcher.makeHTTPClient()
    let webhookServices: [any Service] = [
        WebhookDispatcher(
            store: store, clock: clock, http: webhookHTTP, seal: webhookSeal, retry: configuration.console.webhookRetry, logger: logger),
        WebhookEventScanner(
            store: store, clock: clock, policy: LicenseEventPolicy(expiringSoonDays: configuration.console.expiringSoonDays),
            interval: configuration.console.eventScanInterval, logger: logger),
        HTTPClientShutdownService(client: webhookHTTP),
    ]
    ChatController(
        services: services, settings: chatSettings,
        client: chatHTTP.map { ChatUpstreamClient(http: $0, keys: vault, logger: logger) }
    ).addRoutes(to: router)

    let chatServices: [any Service] = chatHTTP.map { [HTTPClientShutdownService(client: $0)] } ?? []

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
        services: [
            StreamCheckpointService(environment: streams), instance,
            StreamShutdownService(
                registry: registry, store: store, clock: clock, instanceID: configuration.resolvedInstanceID,
                instanceLapse: configuration.instanceLapse),
        ] + chatServices + webhookServices,
        onServerRunning: onServerRunning,
        logger: logger)
    // Sessions a crash of this instance (or a lapsed one) left open are billed up to their last
    // checkpoint; their leases go.
    app.beforeServerStarts { try await instance.start() }
    return app
}

/// On graceful shutdown, stops every live stream so each bills its last audio, frees its lease
/// and tells its edge (`stopped`, `server_shutdown`). It must shut down before the HTTP server
/// does, or the server closes the sockets first: `central serve` runs it after the application
/// in its own service group (groups shut down in reverse order).
///
/// With other instances alive on the same database (a rolling upgrade behind a load balancer),
/// the streams are handed off instead: billed to their last frame, their edges resume on another
/// instance, same session. The instance then stays registered until its heartbeat lapses, so the
/// others settle only what no edge resumed.
public struct StreamShutdownService: Service {
    let registry: StreamRegistry
    let store: any CentralStore
    let clock: any WallClock
    let instanceID: String
    let instanceLapse: TimeInterval

    public init(
        registry: StreamRegistry, store: any CentralStore, clock: any WallClock = SystemWallClock(), instanceID: String,
        instanceLapse: TimeInterval
    ) {
        self.registry = registry
        self.store = store
        self.clock = clock
        self.instanceID = instanceID
        self.instanceLapse = instanceLapse
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let now = clock.now()
        let others = (try? await store.instances().contains {
            $0.id != instanceID && now.timeIntervalSince($0.heartbeatAt) <= instanceLapse
        }) ?? false
        await registry.stopAll(handOff: others)
        // Gone, not lapsed: nothing of it is left for the others to settle. (Run twice, by the
        // application and by `central serve`: the registry remembers a hand-off.)
        if registry.handedOffCount == 0 { try? await store.removeInstance(id: instanceID) }
    }
}
