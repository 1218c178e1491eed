import Foundation
import Logging
import Synchronization

/// Live sessions by id. It is also the license-change observer: an admin change to a license
/// with live sessions makes each of them re-read the license at once.
final class StreamRegistry: LicenseChangeObserver {
    private let sessions = Mutex<[String: StreamSession]>([:])

    func add(_ session: StreamSession) {
        sessions.withLock { $0[session.id] = session }
    }

    func remove(_ session: StreamSession) {
        sessions.withLock { table in
            if table[session.id] === session { table[session.id] = nil }
        }
    }

    func session(id: String) -> StreamSession? {
        sessions.withLock { $0[id] }
    }

    var all: [StreamSession] { sessions.withLock { Array($0.values) } }
    var count: Int { sessions.withLock { $0.count } }

    func licenseChanged(id: String) async {
        let affected = sessions.withLock { $0.values.filter { $0.licenseID == id } }
        await withTaskGroup(of: Void.self) { group in
            for session in affected {
                group.addTask { await session.licenseChanged() }
            }
        }
    }

    /// Stops every session (graceful shutdown): each bills its audio and releases its lease.
    func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for session in all {
                group.addTask { await session.stop(.serverShutdown, "Central is shutting down.") }
            }
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
