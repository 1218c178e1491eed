import Foundation
import Logging
import PostgresNIO

/// Where the store lives, from `DATABASE_URL`: an SQLite file (the embedded default) or a
/// PostgreSQL database that several central instances share.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresConnectionSettings)

    /// Accepts `sqlite:relative/path`, `sqlite:/absolute/path` and `sqlite:///absolute/path`,
    /// and `postgres://` or `postgresql://` URLs (see `PostgresConnectionSettings`, which also
    /// reads `DATABASE_PASSWORD_FILE` and `DATABASE_POOL_SIZE` from `environment`).
    public init(url: String, environment: [String: String] = [:]) throws {
        let expected = "sqlite:<path> or postgres://user[:password]@host[:port]/database[?sslmode=…]"
        let scheme = url.prefix(while: { $0 != ":" }).lowercased()
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else {
                throw CentralConfiguration.ConfigurationError.invalid(name: "DATABASE_URL", value: url, expected: "sqlite:<path>")
            }
            self = .sqlite(path: path)
        } else if scheme == "postgres" || scheme == "postgresql" {
            self = .postgres(try PostgresConnectionSettings(url: url, environment: environment))
        } else {
            throw CentralConfiguration.ConfigurationError.invalid(
                name: "DATABASE_URL", value: PostgresConnectionSettings.redacted(url), expected: expected)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.description
        }
    }

    /// The store, and for PostgreSQL the client that must run before it answers. SQLite applies
    /// its migrations here; PostgreSQL's wait for `OpenedStore.prepare()`.
    public func open(logger: Logger) throws -> OpenedStore {
        switch self {
        case .sqlite(let path):
            return OpenedStore(store: try SQLiteCentralStore(path: path), service: nil) {}
        case .postgres(let settings):
            var clientLogger = logger
            clientLogger[metadataKey: "database"] = "\(settings)"
            let service = PostgresClientService(
                client: PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: clientLogger))
            let store = PostgresCentralStore(client: service.client, logger: logger)
            return OpenedStore(store: store, service: service) {
                await service.started()
                try await store.migrate()
            }
        }
    }

    /// For a one-shot command: the store, ready. A PostgreSQL client runs in the background for
    /// the rest of the process (the command ends with it).
    public func openStore(logger: Logger = Logger(label: "central")) async throws -> any CentralStore {
        let opened = try open(logger: logger)
        if let service = opened.service {
            Task.detached { try await service.run() }
        }
        try await opened.prepare()
        return opened.store
    }
}
