/// Bounds a call on the database: postgres-nio's pool waits for a connection for as long as
/// the server is unreachable (retrying, and logging each failure), which a readiness probe or
/// a starting server must not do silently.
enum PostgresDeadline {
    static func run<Result: Sendable>(
        within timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw StoreError.notReady("\(what): the database did not answer within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }
}
