import Foundation
import PostgresNIO

/// A result row read by column name. A missing column or a value of the wrong type is a
/// `StoreError.corruptRow`, never a crash (postgres-nio's own name lookup traps).
struct PostgresRowReader {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    subscript<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self) -> Value {
        get throws {
            guard row.contains(column) else { throw StoreError.corruptRow("no column \(column)") }
            do {
                return try row[column].decode(Value.self)
            } catch {
                throw StoreError.corruptRow("column \(column): \(String(reflecting: error))")
            }
        }
    }

    /// A millisecond timestamp column as a date.
    func date(_ column: String) throws -> Date {
        Milliseconds.date(try self[column, as: Int64.self])
    }

    func optionalDate(_ column: String) throws -> Date? {
        try self[column, as: Int64?.self].map(Milliseconds.date)
    }
}
