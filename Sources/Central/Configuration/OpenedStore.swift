import ServiceLifecycle

/// A store as `DatabaseLocation.open` returns it: for PostgreSQL, with the client whose `run()`
/// must be going (in the server's service group, started first so it stops last) before
/// `prepare()` or any store call can return.
public struct OpenedStore: Sendable {
    public let store: any CentralStore
    public let service: (any Service)?
    private let migrate: @Sendable () async throws -> Void

    init(store: any CentralStore, service: (any Service)?, migrate: @escaping @Sendable () async throws -> Void) {
        self.store = store
        self.service = service
        self.migrate = migrate
    }

    /// Applies pending migrations (PostgreSQL: once its client runs, under the advisory lock, so
    /// instances starting together apply each once).
    public func prepare() async throws {
        try await migrate()
    }
}
