import Foundation
import Logging
import Synchronization

/// Live sessions by id. It is also the license-change observer: an admin change to a license
/// with live sessions makes each of them re-read the license at once.
public final class StreamRegistry: LicenseChangeObserver {
    private struct Table {
        var sessions: [String: StreamSession] = [:]
        var openConnections = 0
        var shuttingDown = false
    }

    private let table = Mutex(Table())

    public init() {}

    /// False once shutdown began: no new session may start then.
    func add(_ session: StreamSession) -> Bool {
        table.withLock { table in
            guard !table.shuttingDown else { return false }
            table.sessions[session.id] = session
            return true
        }
    }

    var isShuttingDown: Bool { table.withLock { $0.shuttingDown } }

    /// Stream connections still being served (shutdown waits for their last messages).
    func connectionOpened() { table.withLock { $0.openConnections += 1 } }
    func connectionClosed() { table.withLock { $0.openConnections -= 1 } }

    func remove(_ session: StreamSession) {
        table.withLock { table in
            if table.sessions[session.id] === session { table.sessions[session.id] = nil }
        }
    }

    func session(id: String) -> StreamSession? {
        table.withLock { $0.sessions[id] }
    }

    var all: [StreamSession] { table.withLock { Array($0.sessions.values) } }
    var count: Int { table.withLock { $0.sessions.count } }

    public func licenseChanged(id: String) async {
        let affected = table.withLock { $0.sessions.values.filter { $0.licenseID == id } }
        await withTaskGroup(of: Void.self) { group in
            for session in affected {
                group.addTask { await session.licenseChanged() }
            }
        }
    }

    /// Stops every session (graceful shutdown): each bills its audio, releases its lease and
    /// tells its edge; then waits (bounded) until their connections have written that and closed.
    func stopAll(drainTimeout: Duration = .seconds(5)) async {
        table.withLock { $0.shuttingDown = true }
        await withTaskGroup(of: Void.self) { group in
            for session in all {
                group.addTask { await session.stop(.serverShutdown, "Central is shutting down.") }
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: drainTimeout)
        while table.withLock({ $0.openConnections }) > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// What a session needs from the rest of central.
struct StreamEnvironment: Sendable {
    let store: any CentralStore
    let clock: any WallClock
    let provider: any SpeechProvider
    let settings: StreamSettings
    let leaseTTL: TimeInterval
    let metrics: CentralMetrics
    let registry: StreamRegistry
    let logger: Logger
}
