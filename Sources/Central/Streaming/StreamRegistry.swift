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
        var handedOff = 0
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

    /// Signals, does not wait: each affected session re-reads its license (and stops, flushing
    /// its provider, if it must) on its own, so an operator's answer never waits for a provider.
    public func licenseChanged(id: String) async {
        let affected = table.withLock { $0.sessions.values.filter { $0.licenseID == id } }
        for session in affected {
            Task { await session.licenseChanged() }
        }
    }

    /// Stops every session (graceful shutdown): each bills its audio, releases its lease and
    /// tells its edge; then waits (bounded) until their connections have written that and closed.
    /// With `handOff`, the sessions are billed and their edges sent to resume elsewhere instead
    /// (`StreamSession.handOff`); returns how many were.
    @discardableResult
    func stopAll(handOff: Bool = false, drainTimeout: Duration = .seconds(5)) async -> Int {
        table.withLock { $0.shuttingDown = true }
        let sessions = all
        await withTaskGroup(of: Void.self) { group in
            for session in sessions {
                group.addTask {
                    if handOff {
                        await session.handOff()
                    } else {
                        await session.stop(.serverShutdown, "Central is shutting down.")
                    }
                }
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: drainTimeout)
        while table.withLock({ $0.openConnections }) > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if handOff { table.withLock { $0.handedOff += sessions.count } }
        return handOff ? sessions.count : 0
    }

    /// Sessions handed off to other instances at shutdown (by any caller of `stopAll`).
    var handedOffCount: Int { table.withLock { $0.handedOff } }
}

/// What a session needs from the rest of central.
struct StreamEnvironment: Sendable {
    let store: any CentralStore
    let clock: any WallClock
    let providers: ProviderRegistry
    let settings: StreamSettings
    let leaseTTL: TimeInterval
    /// This instance: the owner its sessions record, and the only one that bills them.
    let instanceID: String
    let metrics: CentralMetrics
    let registry: StreamRegistry
    let logger: Logger
}
