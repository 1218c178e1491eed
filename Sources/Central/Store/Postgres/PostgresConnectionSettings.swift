import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where and how to reach PostgreSQL, from `DATABASE_URL=postgres://user:password@host:port/db?sslmode=…`
/// (or `postgresql://`), `DATABASE_PASSWORD_FILE` and `DATABASE_POOL_SIZE`. Parsed strictly: a
/// URL that could mean two things is refused with the part that is wrong, never guessed at.
public struct PostgresConnectionSettings: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode` values that central supports.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        /// libpq's default: TLS when the server offers it, not verified.
        case prefer
        /// TLS or no connection; the certificate is not verified (libpq's meaning).
        case require
        /// TLS with the certificate checked against the system's trust roots, not the host name.
        case verifyCA = "verify-ca"
        /// TLS with the certificate and the host name verified.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// The most connections this process opens to the database.
    public var poolSize: Int

    public static let defaultPort = 5432
    public static let defaultPoolSize = 10

    /// Parses `url`; `environment` may give `DATABASE_PASSWORD_FILE` (instead of a password in
    /// the URL) and `DATABASE_POOL_SIZE`.
    public init(url: String, environment: [String: String] = [:]) throws {
        func invalid(_ expected: String) -> CentralConfiguration.ConfigurationError {
            .invalid(name: "DATABASE_URL", value: Self.redacted(url), expected: expected)
        }
        let shape = "postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require|verify-ca|verify-full]"
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "postgres" || scheme == "postgresql"
        else { throw invalid(shape) }
        guard let host = components.host, !host.isEmpty else { throw invalid("a host name (\(shape))") }
        guard let user = components.user, !user.isEmpty else { throw invalid("a user name (\(shape))") }
        let path = components.path
        let database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !database.isEmpty, !database.contains("/") else { throw invalid("one database name after the host (\(shape))") }
        if let port = components.port {
            guard (1...65_535).contains(port) else { throw invalid("a port number 1-65535") }
            self.port = port
        } else {
            self.port = Self.defaultPort
        }
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw invalid("no query parameter but sslmode (found \(item.name))")
            }
            guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                throw invalid("sslmode=" + SSLMode.allCases.map(\.rawValue).joined(separator: "|"))
            }
            sslMode = mode
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.username = user
        self.database = database
        self.sslMode = sslMode
        self.password = components.password.flatMap { $0.isEmpty ? nil : $0 }
        if let file = environment["DATABASE_PASSWORD_FILE"], !file.isEmpty {
            guard password == nil else {
                throw CentralConfiguration.ConfigurationError.invalid(
                    name: "DATABASE_PASSWORD_FILE", value: file, expected: "no password in DATABASE_URL as well (give it once)")
            }
            password = try CentralConfiguration.readSecret(file: file, name: "DATABASE_PASSWORD_FILE")
        }
        poolSize = Self.defaultPoolSize
        if let size = environment["DATABASE_POOL_SIZE"], !size.isEmpty {
            guard let value = Int(size), (1...1000).contains(value) else {
                throw CentralConfiguration.ConfigurationError.invalid(
                    name: "DATABASE_POOL_SIZE", value: size, expected: "an integer from 1 to 1000")
            }
            poolSize = value
        }
    }

    /// The URL without its password, for logs.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// `url` with any password replaced, so an error message never prints a secret.
    static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), components.password != nil else { return url }
        var copy = components
        copy.password = "***"
        return copy.string ?? "postgres://…"
    }

    /// postgres-nio's client configuration for these settings.
    public func clientConfiguration() -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        return configuration
    }

    private var tls: PostgresClient.Configuration.TLS {
        var context = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return .disable
        case .prefer:
            context.certificateVerification = .none
            return .prefer(context)
        case .require:
            context.certificateVerification = .none
            return .require(context)
        case .verifyCA:
            context.certificateVerification = .noHostnameVerification
            return .require(context)
        case .verifyFull:
            context.certificateVerification = .fullVerification
            return .require(context)
        }
    }
}
