import PostgresNIO

/// Builds a statement whose conditions depend on a filter: each bound value gets the next `$n`
/// placeholder, so the SQL text and its bindings cannot drift apart. Bind every value before
/// calling `query` (a `bind` inside `query`'s own argument would land on a copy).
struct PostgresQueryBuilder {
    private var bindings = PostgresBindings()

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}
