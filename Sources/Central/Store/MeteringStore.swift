import Foundation
import Protocol

/// Stream sessions, their checkpoints (billing and reservations, as `MeteringPolicy`
/// decides), the ledger and the usage report.
public protocol MeteringStore: Sendable {
    func ledger(licenseID: String) async throws -> [LedgerEntry]
    func usage(_ query: UsageQuery) async throws -> UsageReport

    func openStreamSession(_ session: StreamSessionRecord) async throws
    /// Checkpoints many sessions in one transaction (the stream core's group commit, once per
    /// tick). For each request, as `MeteringPolicy.checkpoint` decides: bills what exceeds the
    /// stored watermark (a replayed checkpoint changes nothing), never past the limit; counts
    /// the session at its first audio; replaces its reservation (0 gives it back); renews its
    /// lease for `leaseTTL` if it still exists. Results are keyed by session id; a request
    /// naming no session has none.
    func checkpointStreamSessions(_ requests: [CheckpointRequest], now: Date) async throws -> [String: CheckpointResult]
    /// The live stream session that holds this lease, if any.
    func liveStreamSession(leaseID: String) async throws -> StreamSessionRecord?
    /// Closes a live session and drops its lease. With an `owner`, only while that instance owns
    /// it: an instance whose session was taken over by another closes nothing.
    func closeStreamSession(id: String, owner: String?, reason: ErrorCode, now: Date) async throws
    /// Makes `owner` the session's owner (a resume on another instance) if it is still live, and
    /// returns it as it stands: its watermark and last sequence are where the new owner goes on.
    func takeOverStreamSession(id: String, owner: String, now: Date) async throws -> StreamSessionRecord?
    /// Asks the owning instance to stop a live session (its next checkpoint says so, and it stops
    /// with `reason` and bills its last audio). Returns the session if it is live.
    func requestStreamSessionStop(id: String, reason: ErrorCode, now: Date) async throws -> StreamSessionRecord?
    /// Closes the live sessions nobody will bill any more (billing stays at their last
    /// checkpoint) and drops their leases: those of other instances whose heartbeat is older
    /// than `lapsedBefore` or that are gone (`instance_lost`), and, when `instance` is
    /// `restarting`, those without an owner and its own whose last checkpoint is older than
    /// `lapsedBefore` (`server_restart`; a fresher one may be resumed elsewhere: the restarting
    /// instance asks again once the lapse has passed). A live instance's sweep never closes its
    /// own sessions. Returns how many it settled.
    func settleStreamSessions(instance: String, restarting: Bool, lapsedBefore: Date, now: Date) async throws -> Int
    func streamSession(id: String) async throws -> StreamSessionRecord?
    func liveStreamSessions() async throws -> [StreamSessionRecord]
    /// Sessions that started on the query's UTC days (and license), oldest first, at most `limit`.
    func streamSessions(_ query: UsageQuery, limit: Int) async throws -> [StreamSessionRecord]
    /// The provider's own account of a session, beside our metering: added to what is recorded,
    /// since a session served by several instances in turn (a resume elsewhere, a hand-off) has
    /// one provider task, and one account, per instance.
    func recordProviderUsage(sessionID: String, usage: ProviderUsage) async throws
}

extension MeteringStore {
    /// Closes the session whoever owns it (tools, tests, the end of a failed open).
    public func closeStreamSession(id: String, reason: ErrorCode, now: Date) async throws {
        try await closeStreamSession(id: id, owner: nil, reason: reason, now: now)
    }

    /// One session's checkpoint (a batch of one).
    public func checkpointStreamSession(
        id: String, acceptedMs: Int64, lastSequence: Int64, reserveMs: Int64, leaseTTL: TimeInterval, owner: String? = nil,
        now: Date
    ) async throws -> CheckpointResult {
        let request = CheckpointRequest(
            sessionID: id, acceptedMs: acceptedMs, lastSequence: lastSequence, reserveMs: reserveMs, leaseTTL: leaseTTL,
            owner: owner)
        guard let result = try await checkpointStreamSessions([request], now: now)[id] else {
            throw StoreError.corruptRow("no stream session \(id)")
        }
        return result
    }
}
