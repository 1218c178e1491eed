import Foundation
import Synchronization
import Testing

/// What one test opened on the PostgreSQL test server: its clients stop and its databases are
/// dropped when the test ends, pass or fail. Applied with `.postgresTestScope` on a suite.
final class PostgresTestScope: Sendable {
    @TaskLocal static var current: PostgresTestScope?

    private let opened = Mutex<(databases: [String], clients: [Task<Void, Never>])>(([], []))

    func adopt(database: String) {
        opened.withLock { $0.databases.append(database) }
    }

    func adopt(client: Task<Void, Never>) {
        opened.withLock { $0.clients.append(client) }
    }

    /// Closes the clients (cancelling `run()` closes a client's connections), then drops the databases.
    func end() async {
        let (databases, clients) = opened.withLock { state in
            defer { state = ([], []) }
            return (state.databases, state.clients)
        }
        for client in clients { client.cancel() }
        for client in clients { await client.value }
        for database in databases { await PostgresTestServer.dropDatabase(database) }
    }
}

/// The trait that gives every test (each case of a parameterised one) its own `PostgresTestScope`.
struct PostgresTestScopeTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Suites pass through: the scope belongs to each test case, which runs with its own.
        guard testCase != nil else { return try await function() }
        let scope = PostgresTestScope()
        do {
            try await PostgresTestScope.$current.withValue(scope) { try await function() }
        } catch {
            await scope.end()
            throw error
        }
        await scope.end()
    }
}

extension Trait where Self == PostgresTestScopeTrait {
    static var postgresTestScope: Self { PostgresTestScopeTrait() }
}
