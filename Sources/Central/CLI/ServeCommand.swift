import ArgumentParser
import Foundation
import ServiceLifecycle
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the central HTTP server (the default).")

    @Option(help: "Address to listen on (env CENTRAL_HOST, default 0.0.0.0).") var host: String?
    @Option(help: "Port to listen on (env CENTRAL_PORT, default 8080).") var port: Int?
    @Option(
        name: .customLong("database-url"),
        help: "sqlite:<path> or postgres://user@host:port/db (env DATABASE_URL, default sqlite:data/central.sqlite).")
    var databaseURL: String?
    @Option(name: .customLong("admin-token-file"), help: "File holding the admin token (env ADMIN_TOKEN_FILE).")
    var adminTokenFile: String?
    @Flag(name: .customLong("generate-admin-token"), help: "Without a configured admin token, generate one and print it once.")
    var generateAdminToken = false
    @Option(name: .customLong("lease-ttl"), help: "Seconds a concurrency lease lives without renewal (env LEASE_TTL_SECONDS, default 30).")
    var leaseTTL: Double?
    @Option(name: .customLong("auth-failures-per-minute"), help: "Failed authentications allowed per IP per minute (env AUTH_FAILURES_PER_MINUTE, default 10).")
    var authFailuresPerMinute: Int?
    @Option(name: .customLong("trusted-proxies"), help: "Comma-separated CIDR blocks whose X-Forwarded-For is believed (env TRUSTED_PROXIES).")
    var trustedProxies: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env LOG_LEVEL, default info).")
    var logLevel: String?

    func run() async throws {
        var configuration = try CentralConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        if let host { configuration.host = host }
        if let port { configuration.port = try CentralConfiguration.parsePort(String(port), name: "--port") }
        if let databaseURL {
            configuration.database = try DatabaseLocation(url: databaseURL, environment: ProcessInfo.processInfo.environment)
        }
        if let adminTokenFile {
            configuration.adminToken = try CentralConfiguration.readSecret(file: adminTokenFile, name: "--admin-token-file")
        }
        if let leaseTTL {
            guard leaseTTL >= 1 else { throw ValidationError("--lease-ttl must be at least 1 second.") }
            configuration.leaseTTL = leaseTTL
        }
        if let authFailuresPerMinute {
            guard authFailuresPerMinute >= 1 else { throw ValidationError("--auth-failures-per-minute must be at least 1.") }
            configuration.authFailuresPerMinute = authFailuresPerMinute
        }
        if let trustedProxies { configuration.trustedProxies = try CentralConfiguration.parseProxies(trustedProxies) }
        if let logLevel { configuration.logLevel = logLevel }

        if configuration.adminToken == nil {
            guard generateAdminToken else {
                throw ValidationError(
                    "No admin token. Set ADMIN_TOKEN or ADMIN_TOKEN_FILE, pass --admin-token-file, or pass --generate-admin-token.")
            }
            let token = CentralConfiguration.generateAdminToken()
            configuration.adminToken = token
            print("Generated admin token (shown once, keep it): \(token)")
        }

        var logger = Logger(label: "central")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let database = try configuration.database.open(logger: logger)
        raiseOpenFileLimit(logger: logger)
        let tls = try configuration.tls.map { try CentralTLS(files: $0, logger: logger) }
        let reloader = Self.reloadOnHangUp(tls, logger: logger)
        defer { reloader.cancel() }
        let watchdog = ShutdownWatchdog.arm(grace: configuration.shutdownGrace, logger: logger)
        defer { for source in watchdog { source.cancel() } }
        guard let client = database.service else {
            let services = try await Self.services(configuration: configuration, store: database.store, tls: tls, logger: logger)
            try await ServiceGroup(configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
            return
        }
        // The database client is the group's first service, so it stops last, after the HTTP
        // server and the streams; it must run before the migrations and the provider setup can
        // use the store, so the rest joins the running group once they are done.
        let group = ServiceGroup(configuration: .init(
            services: [client], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await database.prepare()
            for service in try await Self.services(configuration: configuration, store: database.store, tls: tls, logger: logger) {
                await group.addServiceUnlessShutdown(service)
            }
            try await tasks.next()
        }
    }

    /// The HTTP server and the stream shutdown, in the order the group starts them (it stops
    /// them in reverse: streams stop, billed and told why, before the server closes their sockets).
    static func services(
        configuration: CentralConfiguration, store: any CentralStore, tls: CentralTLS?, logger: Logger
    ) async throws -> [any Service] {
        let assembly = try await ProviderSetup.make(
            configuration: configuration, store: store, clock: SystemWallClock(), logger: logger)
        let registry = StreamRegistry()
        let app = try buildApplication(
            configuration: configuration, store: store, providers: assembly.providers, keyVault: assembly.vault, tls: tls,
            logger: logger,
            streamRegistry: registry)
        logger.info("central starting", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "database": "\(configuration.database)",
            "tls": "\(tls != nil)",
        ])
        return [
            app,
            StreamShutdownService(
                registry: registry, store: store, instanceID: configuration.resolvedInstanceID,
                instanceLapse: configuration.instanceLapse),
        ]
    }

    /// SIGHUP re-reads the certificate and key (a renewed certificate, no restart). Without
    /// TLS it is logged and ignored: `systemctl reload` must never kill a billing server.
    static func reloadOnHangUp(_ tls: CentralTLS?, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            if let tls {
                tls.reload()
            } else {
                logger.notice("SIGHUP: nothing to reload (no TLS configured)")
            }
        }
        source.resume()
        return source
    }

    /// Each stream is a socket: lift the soft descriptor limit to the hard one.
    func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.warning("could not raise the open file limit")
        }
    }
}
