import ArgumentParser
import Foundation
import Logging

/// `central store …`: moving a vendor's data between stores.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move central's data between databases.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an SQLite store into a new, empty PostgreSQL database and verify the copy.",
            discussion: """
                Stop central first. Everything is copied (plans, licenses, devices, leases, ledger, audit, \
                stream sessions, usage, provider keys as ciphertext) in one transaction, which commits only \
                when every table's row count and the ledger's sums are equal on both sides. A target that \
                already holds data is refused.
                """)
        @Option(help: "The SQLite store, sqlite:<path>.") var from: String
        @Option(help: "The PostgreSQL database, postgres://… (DATABASE_PASSWORD_FILE and DATABASE_POOL_SIZE apply).")
        var to: String

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            guard case .sqlite(let path) = try DatabaseLocation(url: from, environment: environment) else {
                throw ValidationError("--from must be sqlite:<path>.")
            }
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--from: no file at \(path).") }
            let target = try DatabaseLocation(url: to, environment: environment)
            guard case .postgres = target else { throw ValidationError("--to must be postgres://….") }
            let source = try SQLiteCentralStore(path: path)
            guard let postgres = try await target.openStore() as? PostgresCentralStore else {
                throw ValidationError("--to must be postgres://….")
            }
            let report = try await StoreCopy.copy(from: source, to: postgres)
            for table in StoreCopy.tables { print("\(table): \(report.rows[table] ?? 0) rows") }
            let sums = report.ledgerSums.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) ms" }
            print("ledger: \(sums.joined(separator: ", ")); licenses used \(report.usedMs) ms")
            print("copied and verified into \(target)")
        }
    }
}
