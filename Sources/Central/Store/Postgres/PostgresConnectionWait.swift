import PostgresNIO

/// Bounds the wait for a pooled connection while the database answers nobody: postgres-nio's
/// pool waits for as long as the server is unreachable. A busy pool is not an outage: as long as
/// other calls keep completing (`answered`), a caller keeps its place in the queue. Once the body
/// has a connection it runs to its end (a transaction is never cut half-way by this); when the
/// wait is given up first, the body never starts, and the waiting lease is cancelled, which the
/// pool supports.
final class PostgresConnectionWait: Sendable {
    private enum State: Sendable { case waiting, acquired, gaveUp }

    let timeout: Duration
    /// When a call last got its answer from the database.
    private let lastAnswer = LockedValue(ContinuousClock.now)

    init(timeout: Duration) {
        self.timeout = timeout
    }

    func withConnection<Result: Sendable>(
        _ client: PostgresClient, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let state = LockedValue(State.waiting)
        let (timeout, lastAnswer) = (self.timeout, self.lastAnswer)
        let unavailable = StoreError.notReady("the database answered nothing for \(timeout)")
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    let start = state.withLock { value -> Bool in
                        guard value == .waiting else { return false }
                        value = .acquired
                        return true
                    }
                    guard start else { throw unavailable }
                    let result = try await body(connection)
                    lastAnswer.set(ContinuousClock.now)
                    return result
                }
            }
            group.addTask {
                while true {
                    // Cancelled (the body got its answer, or the caller gave up): nothing to bound.
                    do { try await Task.sleep(for: timeout) } catch { return nil }
                    let gaveUp = state.withLock { value -> Bool? in
                        guard value == .waiting else { return false }
                        // Others are being answered: the pool is busy, not cut off. Wait on.
                        guard ContinuousClock.now - lastAnswer.value >= timeout else { return nil }
                        value = .gaveUp
                        return true
                    }
                    switch gaveUp {
                    case true?: throw unavailable
                    case false?: return nil
                    case nil: continue
                    }
                }
            }
            while let next = try await group.next() {
                if let result = next {
                    group.cancelAll()
                    return result
                }
            }
            throw unavailable
        }
    }
}
