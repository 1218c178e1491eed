import Foundation

/// Central's settings, from the environment with command-line flags on top.
/// Every setting here is listed, with its default, in the README's configuration table.
public struct CentralConfiguration: Sendable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var database = DatabaseLocation.sqlite(path: "data/central.sqlite")
    public var adminToken: String?
    /// Seconds a concurrency lease lives without a renewal.
    public var leaseTTL: TimeInterval = 30
    /// Failed authentications allowed per client IP per minute, for license keys and the admin token each.
    public var authFailuresPerMinute = 10
    /// Peers whose `X-Forwarded-For` is believed (a reverse proxy in front of central).
    public var trustedProxies: [CIDRBlock] = []
    public var logLevel = "info"
    /// CENTRAL_INSTANCE_ID: this instance's name among those sharing a database (the owner of
    /// its live sessions) and the `instance_id` label on every metric; `<host name>:<port>` when
    /// nil. Keep it stable across restarts: a restarting instance settles its own sessions.
    public var instanceID: String?
    /// The instance name in use: `instanceID`, or this host's name and port.
    public var resolvedInstanceID: String { instanceID ?? "\(CentralMetrics.hostName()):\(port)" }
    /// Seconds without a heartbeat after which an instance's live sessions are settled by the
    /// others: 10, and never more than half the lease TTL, so they are settled within the TTL.
    public var instanceLapse: TimeInterval { max(3, min(10, leaseTTL / 2)) }
    /// The speech providers to run, in order, and each one's settings and keys.
    public var providers = ProviderSettings()
    /// PROVIDER_MASTER_KEY or PROVIDER_MASTER_KEY_FILE: encrypts provider keys at rest.
    public var providerMasterKey: String?
    /// TLS_CERT_FILE + TLS_KEY_FILE: serve HTTPS/WSS directly (re-read on SIGHUP).
    public var tls: CentralTLS.Files?
    /// SHUTDOWN_GRACE_SECONDS: how long a graceful shutdown (SIGTERM) may take before central
    /// exits anyway (ShutdownWatchdog); below the orchestrator's own stop timeout.
    public var shutdownGrace: TimeInterval = 25
    /// Live-stream timings (edge timeout, resume window, …).
    public var stream = StreamSettings()
    /// HTTP header, body and idle timeouts and request-head size limits.
    public var http = HTTPConnectionLimits()
    /// The operator's console and webhooks.
    public var console = ConsoleSettings()

    public init() {}

    public enum ConfigurationError: Error, CustomStringConvertible {
        case invalid(name: String, value: String, expected: String)
        case unreadable(name: String, path: String)

        public var description: String {
            switch self {
            case .invalid(let name, let value, let expected): "\(name)=\(value) is invalid: expected \(expected)."
            case .unreadable(let name, let path): "\(name): cannot read \(path)."
            }
        }
    }

    /// Reads every variable central knows from `environment`.
    public static func fromEnvironment(_ environment: [String: String]) throws -> CentralConfiguration {
        var configuration = CentralConfiguration()
        if let host = environment["CENTRAL_HOST"], !host.isEmpty { configuration.host = host }
        if let port = environment["CENTRAL_PORT"] {
            configuration.port = try parsePort(port, name: "CENTRAL_PORT")
        }
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            configuration.database = try DatabaseLocation(url: url, environment: environment)
        }
        if let token = environment["ADMIN_TOKEN"], !token.isEmpty {
            configuration.adminToken = token
        } else if let file = environment["ADMIN_TOKEN_FILE"], !file.isEmpty {
            configuration.adminToken = try readSecret(file: file, name: "ADMIN_TOKEN_FILE")
        }
        if let ttl = environment["LEASE_TTL_SECONDS"] {
            guard let seconds = TimeInterval(ttl), seconds >= 1 else {
                throw ConfigurationError.invalid(name: "LEASE_TTL_SECONDS", value: ttl, expected: "a number of seconds ≥ 1")
            }
            configuration.leaseTTL = seconds
        }
        if let limit = environment["AUTH_FAILURES_PER_MINUTE"] {
            guard let value = Int(limit), value >= 1 else {
                throw ConfigurationError.invalid(name: "AUTH_FAILURES_PER_MINUTE", value: limit, expected: "an integer ≥ 1")
            }
            configuration.authFailuresPerMinute = value
        }
        if let proxies = environment["TRUSTED_PROXIES"], !proxies.isEmpty {
            configuration.trustedProxies = try parseProxies(proxies)
        }
        if let level = environment["LOG_LEVEL"], !level.isEmpty { configuration.logLevel = level }
        if let instance = environment["CENTRAL_INSTANCE_ID"], !instance.isEmpty { configuration.instanceID = instance }
        configuration.providers = try ProviderSettings.fromEnvironment(environment)
        if let master = environment["PROVIDER_MASTER_KEY"], !master.isEmpty {
            configuration.providerMasterKey = master
        } else if let file = environment["PROVIDER_MASTER_KEY_FILE"], !file.isEmpty {
            configuration.providerMasterKey = try readSecret(file: file, name: "PROVIDER_MASTER_KEY_FILE")
        }
        let certificate = environment["TLS_CERT_FILE"] ?? "", key = environment["TLS_KEY_FILE"] ?? ""
        if !certificate.isEmpty || !key.isEmpty {
            guard !certificate.isEmpty, !key.isEmpty else {
                throw ConfigurationError.invalid(
                    name: certificate.isEmpty ? "TLS_CERT_FILE" : "TLS_KEY_FILE", value: "",
                    expected: "both TLS_CERT_FILE and TLS_KEY_FILE (PEM files), or neither")
            }
            configuration.tls = CentralTLS.Files(certificate: certificate, key: key)
        }
        if let timeout = environment["EDGE_TIMEOUT_SECONDS"] {
            configuration.stream.edgeTimeout = try parseSeconds(timeout, name: "EDGE_TIMEOUT_SECONDS")
        }
        if let window = environment["RESUME_WINDOW_SECONDS"] {
            configuration.stream.resumeWindow = try parseSeconds(window, name: "RESUME_WINDOW_SECONDS")
        }
        if let grace = environment["SHUTDOWN_GRACE_SECONDS"] {
            configuration.shutdownGrace = try parseSeconds(grace, name: "SHUTDOWN_GRACE_SECONDS")
        }
        try readHTTPLimits(environment, into: &configuration)
        try ConsoleSettings.read(environment, into: &configuration.console)
        return configuration
    }

    static func readHTTPLimits(_ environment: [String: String], into configuration: inout CentralConfiguration) throws {
        if let header = environment["HTTP_HEADER_TIMEOUT_SECONDS"] {
            configuration.http.headerTimeout = .seconds(try parseSeconds(header, name: "HTTP_HEADER_TIMEOUT_SECONDS"))
        }
        if let body = environment["HTTP_BODY_TIMEOUT_SECONDS"] {
            configuration.http.bodyTimeout = .seconds(try parseSeconds(body, name: "HTTP_BODY_TIMEOUT_SECONDS"))
        }
        if let idle = environment["HTTP_IDLE_TIMEOUT_SECONDS"] {
            configuration.http.idleTimeout = .seconds(try parseSeconds(idle, name: "HTTP_IDLE_TIMEOUT_SECONDS"))
        }
    }

    static func parsePort(_ text: String, name: String) throws -> Int {
        guard let port = Int(text), (0...65_535).contains(port) else {
            throw ConfigurationError.invalid(name: name, value: text, expected: "a port number 0-65535")
        }
        return port
    }

    static func parseSeconds(_ text: String, name: String) throws -> TimeInterval {
        guard let seconds = TimeInterval(text), seconds >= 1, seconds <= 3600 else {
            throw ConfigurationError.invalid(name: name, value: text, expected: "a number of seconds from 1 to 3600")
        }
        return seconds
    }

    static func parseProxies(_ text: String) throws -> [CIDRBlock] {
        try text.split(separator: ",").map { entry in
            guard let block = CIDRBlock(entry.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError.invalid(name: "TRUSTED_PROXIES", value: String(entry), expected: "CIDR blocks separated by commas")
            }
            return block
        }
    }

    /// Reads a secret from a file, without its trailing newline.
    public static func readSecret(file: String, name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationError.unreadable(name: name, path: file)
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh admin token: 32 random bytes, hex.
    public static func generateAdminToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}
