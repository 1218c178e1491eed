@testable import Central
import Foundation
import Testing

/// How the store conformance suite gets a fresh, empty store of one implementation. Every test
/// of the suite runs once per entry of `all`.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> StoreUnderTest

    var testDescription: String { name }

    /// PostgreSQL is left out only on purpose (`CENTRAL_TEST_SKIP_POSTGRES=1`); without a test
    /// server its tests fail and say how to start one (see `PostgresTestServer`).
    static let all: [StoreFactory] = PostgresTestServer.optedOut ? [.sqlite] : [.sqlite, .postgres]

    /// A real SQLite file in a fresh temporary directory; another connection is another pool on
    /// the same file, as a second central process would open.
    static let sqlite = StoreFactory(name: "SQLite") {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("central-conformance-\(UUID().uuidString)")
            .appendingPathComponent("central.sqlite").path
        return StoreUnderTest(store: try SQLiteCentralStore(path: path)) { try SQLiteCentralStore(path: path) }
    }

    /// A fresh database on the real PostgreSQL test server; another connection is another
    /// client with its own pool, as a second central instance would hold.
    static let postgres = StoreFactory(name: "PostgreSQL") {
        let (store, another) = try await PostgresTestServer.freshStore()
        return StoreUnderTest(store: store) { await another() }
    }
}
