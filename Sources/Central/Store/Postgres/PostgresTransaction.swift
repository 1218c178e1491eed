import Logging
import PostgresNIO

/// One leased connection inside one transaction (or, for reads, a single statement): the
/// PostgreSQL counterpart of GRDB's `Database` handle in the SQLite store.
struct PostgresTransaction {
    let connection: PostgresConnection
    let logger: Logger

    /// Every row of `query`.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRowReader] {
        try await connection.query(query, logger: logger).collect().map(PostgresRowReader.init)
    }

    func first(_ query: PostgresQuery) async throws -> PostgresRowReader? {
        try await rows(query).first
    }

    /// Runs a statement and returns how many rows it returned: with `RETURNING 1`, how many it changed.
    @discardableResult
    func execute(_ query: PostgresQuery) async throws -> Int {
        try await connection.query(query, logger: logger).collect().count
    }
}
