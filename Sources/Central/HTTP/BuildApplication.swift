import Foundation
import Hummingbird
import Logging
import NIOCore

/// Assembles central: store, clock, middleware and every route, in one place.
public func buildApplication(
    configuration: CentralConfiguration,
    store: any CentralStore,
    clock: any WallClock = SystemWallClock(),
    observer: (any LicenseChangeObserver)? = nil,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    guard let adminToken = configuration.adminToken, !adminToken.isEmpty else {
        throw CentralConfiguration.ConfigurationError.invalid(
            name: "ADMIN_TOKEN", value: "", expected: "an admin token (ADMIN_TOKEN, ADMIN_TOKEN_FILE or --generate-admin-token)")
    }
    let services = CentralServices(
        store: store, clock: clock, configuration: configuration, metrics: CentralMetrics(),
        licenseAuthLimiter: AuthFailureLimiter(limit: configuration.authFailuresPerMinute),
        adminAuthLimiter: AuthFailureLimiter(limit: configuration.authFailuresPerMinute),
        clientAddress: ClientAddressResolver(trustedProxies: configuration.trustedProxies),
        observer: observer)

    let router = Router(context: CentralRequestContext.self)
    // Method and path only: headers carry license keys and the admin token.
    router.add(middleware: LogRequestsMiddleware(.debug, includeHeaders: .none))
    router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: ErrorResponseMiddleware())
    OpsController(services: services).addRoutes(to: router)
    LicenseController(services: services).addRoutes(to: router)
    AdminController(services: services).addRoutes(
        to: router.group("/v1/admin").add(middleware: AdminAuthMiddleware(adminToken: adminToken, services: services)))

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "central"),
        onServerRunning: onServerRunning,
        logger: logger)
}
