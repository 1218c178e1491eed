import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The store's `PostgresClient` as the service that runs it, and a way to wait until it runs:
/// the pool hangs (and warns) when leased before `run()`, and a server's first queries (the
/// migrations) are issued while its service group is still starting.
public final class PostgresClientService: Service, Sendable {
    public let client: PostgresClient
    private let state = Mutex<(started: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    public init(client: PostgresClient) {
        self.client = client
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            // `client.run()` marks the client running at its first step, which nothing outside
            // can observe; a short head start keeps the first lease from racing it.
            try? await Task.sleep(for: .milliseconds(20))
            let waiting = state.withLock { state in
                state.started = true
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    /// Returns once `run()` has started the client.
    public func started() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if !state.started { state.waiting.append(continuation) }
                return state.started
            }
            if now { continuation.resume() }
        }
    }
}
