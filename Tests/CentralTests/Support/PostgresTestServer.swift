@testable import Central
import Foundation
import Logging
import PostgresNIO

/// The real PostgreSQL server the tests share, started by `make test` through
/// scripts/postgres-test-server.sh and named by `CENTRAL_TEST_POSTGRES_URL`. Every store the
/// tests open gets a database of its own on it (created here, dropped by `PostgresTestScope`).
///
/// Without the variable every PostgreSQL test fails, saying how to start the server: a
/// missing database must never pass as a green run. `CENTRAL_TEST_SKIP_POSTGRES=1` leaves the
/// PostgreSQL store out on purpose (the store conformance suite then runs on SQLite only).
enum PostgresTestServer {
    static let urlVariable = "CENTRAL_TEST_POSTGRES_URL"
    static let optOutVariable = "CENTRAL_TEST_SKIP_POSTGRES"

    static var optedOut: Bool { ProcessInfo.processInfo.environment[optOutVariable] == "1" }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String {
            "\(PostgresTestServer.urlVariable) is not set: run the tests through `make test`, or start a server with "
                + "`dir=$(scripts/postgres-test-server.sh start)` and set \(PostgresTestServer.urlVariable)=$(cat $dir/url) "
                + "(or set \(PostgresTestServer.optOutVariable)=1 to leave PostgreSQL out on purpose)"
        }
    }

    /// The server's own settings (its maintenance database).
    static func serverSettings() throws -> PostgresConnectionSettings {
        guard let url = ProcessInfo.processInfo.environment[urlVariable], !url.isEmpty else { throw Unavailable() }
        return try PostgresConnectionSettings(url: url)
    }

    static let logger: Logger = {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// One client on the maintenance database for the whole test process, for CREATE/DROP DATABASE.
    private static let administration: Result<PostgresClientService, any Error> = Result {
        var settings = try serverSettings()
        settings.poolSize = 4
        let service = PostgresClientService(
            client: PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: logger))
        Task.detached { await service.run() }
        return service
    }

    private static func administrationClient() async throws -> PostgresClient {
        let service = try administration.get()
        await service.started()
        return service.client
    }

    /// A new, empty database; settings that reach it. Dropped when the current test scope ends.
    static func createDatabase() async throws -> PostgresConnectionSettings {
        let client = try await administrationClient()
        var settings = try serverSettings()
        settings.database = "central_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(settings.database)"))
        PostgresTestScope.current?.adopt(database: settings.database)
        return settings
    }

    static func dropDatabase(_ name: String) async {
        do {
            try await administrationClient().query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        } catch {
            logger.warning("could not drop test database", metadata: ["database": "\(name)", "error": "\(String(reflecting: error))"])
        }
    }

    /// A running client on `settings`' database; it stops when the current test scope ends.
    static func client(_ settings: PostgresConnectionSettings, poolSize: Int = 4) async -> PostgresClient {
        var settings = settings
        settings.poolSize = poolSize
        let service = PostgresClientService(
            client: PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: logger))
        let running = Task { await service.run() }
        PostgresTestScope.current?.adopt(client: running)
        await service.started()
        return service.client
    }

    /// A migrated store on a fresh database, and a way to open more stores (more pools, as more
    /// central instances would hold) on the same one.
    static func freshStore() async throws -> (store: PostgresCentralStore, another: @Sendable () async -> PostgresCentralStore) {
        let settings = try await createDatabase()
        let store = PostgresCentralStore(client: await client(settings), logger: logger)
        try await store.migrate()
        return (store, { PostgresCentralStore(client: await client(settings), logger: logger) })
    }
}
