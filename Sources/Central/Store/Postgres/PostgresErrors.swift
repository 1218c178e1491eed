import PostgresNIO

/// The SQLSTATE codes the store acts on.
enum PostgresErrors {
    static func sqlState(_ error: PSQLError) -> String? {
        error.serverInfo?[.sqlState]
    }

    /// 23505: a unique constraint refused the row.
    static func isUniqueViolation(_ error: PSQLError) -> Bool {
        sqlState(error) == "23505"
    }

    /// 40P01 (deadlock detected) and 40001 (serialisation failure): the transaction was rolled
    /// back by the server and may simply run again.
    static func isRetryable(_ error: PSQLError) -> Bool {
        ["40P01", "40001"].contains(sqlState(error))
    }
}
