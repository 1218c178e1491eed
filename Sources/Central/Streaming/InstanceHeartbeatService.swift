import Foundation
import Logging
import Protocol
import ServiceLifecycle

/// Keeps this instance's heartbeat in the store and settles what lapsed instances left: their
/// live sessions are billed to their last checkpoint and their leases freed, within the lease
/// TTL (`CentralConfiguration.instanceLapse`), by whichever survivor sweeps first. With one
/// instance (SQLite) it is one small write a second.
struct InstanceHeartbeatService: Service {
    let store: any CentralStore
    let clock: any WallClock
    let instanceID: String
    let lapse: TimeInterval
    let interval: Duration
    let metrics: CentralMetrics
    let logger: Logger

    /// Before serving: announces the instance and settles what a previous run of it left quiet
    /// for the lapse, and what lapsed instances left.
    func start() async throws {
        let now = clock.now()
        try await store.heartbeatInstance(id: instanceID, now: now)
        let settled = try await store.settleStreamSessions(
            instance: instanceID, restarting: true, lapsedBefore: now.addingTimeInterval(-lapse), now: now)
        if settled > 0 { logger.notice("settled sessions left open by a previous run", metadata: ["count": "\(settled)"]) }
        record(settled, as: .serverRestart)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            // What the previous run left that was too fresh to settle at start (its edges may
            // have resumed elsewhere meanwhile, which makes it no longer ours) goes once the
            // lapse has passed: this run's own sessions checkpoint every tick, so they are never
            // that quiet.
            let settleLeftovers = Task {
                try await Task.sleep(for: .seconds(lapse + 1))
                let now = clock.now()
                let settled = try await store.settleStreamSessions(
                    instance: instanceID, restarting: true, lapsedBefore: now.addingTimeInterval(-lapse), now: now)
                if settled > 0 { logger.notice("settled sessions left open by a previous run", metadata: ["count": "\(settled)"]) }
                record(settled, as: .serverRestart)
            }
            defer { settleLeftovers.cancel() }
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                await beat()
            }
        }
    }

    /// One heartbeat and one sweep. A failure (the database away) is retried at the next beat.
    func beat() async {
        let now = clock.now()
        do {
            try await store.heartbeatInstance(id: instanceID, now: now)
            let settled = try await store.settleStreamSessions(
                instance: instanceID, restarting: false, lapsedBefore: now.addingTimeInterval(-lapse), now: now)
            if settled > 0 {
                logger.notice("settled sessions of a lapsed instance", metadata: ["count": "\(settled)"])
                record(settled, as: .instanceLost)
            }
        } catch {
            logger.warning("instance heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    /// The same series as live stops, so a dashboard sees sessions a crash ended.
    private func record(_ count: Int, as reason: ErrorCode) {
        for _ in 0..<count { metrics.unassignedStream.recordStreamEvent("stopped_\(reason.rawValue)") }
    }
}
