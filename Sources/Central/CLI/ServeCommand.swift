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
    @Option(name: .customLong("database-url"), help: "sqlite:<path> (env DATABASE_URL, default sqlite:data/central.sqlite).")
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
        if let databaseURL { configuration.database = try DatabaseLocation(url: databaseURL) }
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
        let store = try configuration.database.openStore()
        raiseOpenFileLimit(logger: logger)
        let (provider, vault) = try await ProviderSetup.make(
            configuration: configuration, store: store, clock: SystemWallClock(), logger: logger)
        let tls = try configuration.tls.map { try CentralTLS(files: $0, logger: logger) }
        let reloader = Self.reloadOnHangUp(tls, logger: logger)
        defer { reloader.cancel() }
        let registry = StreamRegistry()
        let app = try buildApplication(
            configuration: configuration, store: store, provider: provider, keyVault: vault, tls: tls, logger: logger,
            streamRegistry: registry)
        logger.info("central starting", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "database": "\(configuration.database)",
            "tls": "\(tls != nil)",
        ])
        // Streams stop (billed, told why) before the server closes their sockets.
        let services = ServiceGroup(configuration: .init(
            services: [app, StreamShutdownService(registry: registry)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await services.run()
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
