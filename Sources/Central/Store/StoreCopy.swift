import Foundation
import GRDB
import Logging
import PostgresNIO

/// `central store copy`: a vendor's whole SQLite store into an empty PostgreSQL database, in one
/// PostgreSQL transaction that commits only when the copy verifies (every table's row count, and
/// the ledger's and the licenses' sums, equal on both sides).
enum StoreCopy {
    /// The tables in dependency order; their columns are the same on both engines by design.
    static let tables = [
        "plans", "licenses", "license_devices", "leases", "ledger", "audit", "stream_sessions", "daily_usage",
        "provider_keys", "chat_requests",
    ]
    /// Tables whose `seq` is an identity column on PostgreSQL (copied as is, then moved on).
    static let identityTables: Set<String> = ["licenses", "ledger", "audit"]

    struct Report: Sendable, Equatable {
        var rows: [String: Int]
        var ledgerSums: [String: Int64]
        var usedMs: Int64
    }

    enum Failure: Error, CustomStringConvertible {
        case targetNotEmpty(table: String, rows: Int)
        case mismatch(String)

        var description: String {
            switch self {
            case .targetNotEmpty(let table, let rows):
                "the target database is not empty (\(table) has \(rows) rows): copy only into a new database"
            case .mismatch(let what): "the copy does not verify (\(what)); nothing was written"
            }
        }
    }

    static func copy(from source: SQLiteCentralStore, to target: PostgresCentralStore) async throws -> Report {
        // One read transaction: the rows and the totals they are verified against (central is stopped).
        let (sourceReport, read) = try source.pool.read { db in
            (try report(db), try tables.map { table in (table, try Row.fetchAll(db, sql: "SELECT * FROM \(table)")) })
        }
        // Rows read above and only read inside the one transaction below, which this call awaits.
        nonisolated(unsafe) let rows = read
        return try await target.write { db in
            for table in tables where table != "plans" {
                let count = try await db.first(PostgresQuery(unsafeSQL: "SELECT COUNT(*) AS n FROM \(table)"))?["n", as: Int.self] ?? 0
                guard count == 0 else { throw Failure.targetNotEmpty(table: table, rows: count) }
            }
            // The migration seeded the default plans; the source's plans replace them.
            try await db.execute("DELETE FROM plans")
            for (table, tableRows) in rows {
                let types = try await columnTypes(db, table: table)
                for row in tableRows {
                    try await insert(row, into: table, types: types, db)
                }
                if identityTables.contains(table) {
                    try await db.execute(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', 'seq'), COALESCE((SELECT MAX(seq) FROM \(table)), 0) + 1, false)
                        """))
                }
            }
            let copied = try await report(db)
            guard copied == sourceReport else {
                throw Failure.mismatch("source \(sourceReport), target \(copied)")
            }
            return copied
        }
    }

    private static func insert(_ row: Row, into table: String, types: [String: String], _ db: PostgresTransaction) async throws {
        var bindings = PostgresBindings()
        var columns: [String] = []
        for (column, value) in row {
            guard let type = types[column] else { throw Failure.mismatch("\(table).\(column) has no PostgreSQL column") }
            columns.append(column)
            switch (value.storage, type) {
            case (.null, _): bindings.appendNull()
            case (.int64(let number), "boolean"): bindings.append(number != 0)
            case (.int64(let number), "double precision"): bindings.append(Double(number))
            case (.int64(let number), _): bindings.append(number)
            case (.double(let number), _): bindings.append(number)
            case (.string(let text), _): bindings.append(text)
            case (.blob(let data), _): try bindings.append(data)
            }
        }
        let placeholders = (1...max(1, columns.count)).map { "$\($0)" }.joined(separator: ", ")
        let overriding = identityTables.contains(table) ? " OVERRIDING SYSTEM VALUE" : ""
        try await db.execute(PostgresQuery(
            unsafeSQL: "INSERT INTO \(table) (\(columns.joined(separator: ", ")))\(overriding) VALUES (\(placeholders))",
            binds: bindings))
    }

    private static func columnTypes(_ db: PostgresTransaction, table: String) async throws -> [String: String] {
        var types: [String: String] = [:]
        for row in try await db.rows("""
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """)
        {
            types[try row["column_name"]] = try row["data_type"]
        }
        return types
    }

    private static func report(_ db: Database) throws -> Report {
        var rows: [String: Int] = [:]
        for table in tables { rows[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
        var sums: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT kind, SUM(amount_ms) AS total FROM ledger GROUP BY kind") {
            sums[row["kind"]] = row["total"]
        }
        let used = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(used_ms), 0) FROM licenses") ?? 0
        return Report(rows: rows, ledgerSums: sums, usedMs: used)
    }

    private static func report(_ db: PostgresTransaction) async throws -> Report {
        var rows: [String: Int] = [:]
        for table in tables {
            rows[table] = try await db.first(PostgresQuery(unsafeSQL: "SELECT COUNT(*) AS n FROM \(table)"))?["n"] ?? 0
        }
        var sums: [String: Int64] = [:]
        for row in try await db.rows("SELECT kind, SUM(amount_ms)::BIGINT AS total FROM ledger GROUP BY kind") {
            sums[try row["kind"]] = try row["total"]
        }
        let used = try await db.first("SELECT COALESCE(SUM(used_ms), 0)::BIGINT AS used FROM licenses")?["used", as: Int64.self] ?? 0
        return Report(rows: rows, ledgerSums: sums, usedMs: used)
    }
}
