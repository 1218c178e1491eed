import Foundation
import Logging
import ServiceLifecycle

/// The stream core's tick: every `tickInterval`, every live session's checkpoint in ONE store
/// transaction (group commit), then each session takes in its result (quota push, ack, stop).
/// One transaction per tick instead of one per session per tick is what lets one core carry
/// thousands of streams; a session that needs an answer sooner (its reservation is spent, its
/// first audio, an operator's change) still checkpoints on its own, serialized with this.
struct StreamCheckpointService: Service {
    let environment: StreamEnvironment
    /// True while a batch sent to the store has not answered.
    private let batchPending = LockedValue(false)

    func run() async throws {
        // Shutdown cancels the sleep: that is the normal end of the loop, not an error (an error
        // here would make the whole process exit 1 on SIGTERM). StreamShutdownService stops and
        // bills the sessions; each one's final checkpoint does not need the tick.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: environment.settings.tickInterval)
                } catch {
                    return
                }
                await tick()
            }
        }
    }

    /// One tick over every registered session. Every session whose `beginTick` returned a
    /// request gets its `endTick`, whatever happens to the transaction.
    func tick() async {
        let sessions = environment.registry.all
        guard !sessions.isEmpty else { return }
        let requests = await withTaskGroup(of: (StreamSession, CheckpointRequest)?.self) { group in
            for session in sessions {
                group.addTask { await session.beginTick().map { (session, $0) } }
            }
            return await group.reduce(into: [(StreamSession, CheckpointRequest)]()) { all, next in
                if let next { all.append(next) }
            }
        }
        guard !requests.isEmpty else { return }
        let store = environment.store
        let now = environment.clock.now()
        let batch = requests.map(\.1)
        // Not cancellable half-way: sessions wait for their slot of this batch, at most the
        // store call timeout (an unreachable database must not stop the tick: the next one
        // retries, checkpoints being idempotent). While an unanswered batch is still pending,
        // no new one is sent: a long outage must not queue a batch per tick for its return.
        let results: [String: CheckpointResult]?
        if batchPending.value {
            results = nil
        } else {
            batchPending.set(true)
            let pending = batchPending
            let call = Task { () -> [String: CheckpointResult]? in
                defer { pending.set(false) }
                do {
                    return try await store.checkpointStreamSessions(batch, now: now)
                } catch {
                    environment.logger.error(
                        "group checkpoint failed", metadata: ["sessions": "\(batch.count)", "error": "\(error)"])
                    return nil
                }
            }
            results = await StoreCallDeadline.value(within: environment.settings.storeCallTimeout, of: call)
        }
        await withTaskGroup(of: Void.self) { group in
            for (session, request) in requests {
                let result = results?[request.sessionID]
                group.addTask { await session.endTick(result) }
            }
        }
    }
}
