import Foundation
import PostgresNIO
import Protocol

extension PostgresCentralStore {
    public func openStreamSession(_ session: StreamSessionRecord) async throws {
        try await autocommit { db in
            try await db.execute("""
                INSERT INTO stream_sessions (id, license_id, lease_id, device_fingerprint, client_ip, provider,
                    source_language, target_language, status, started_at, billed_ms, last_sequence, owner_instance)
                VALUES (\(session.id), \(session.licenseID), \(session.leaseID), \(session.deviceFingerprint),
                    \(session.clientIP), \(session.provider), \(session.sourceLanguage), \(session.targetLanguage),
                    'live', \(Milliseconds.from(session.startedAt)), 0, -1, \(session.owner))
                """)
        }
    }

    public func checkpointStreamSessions(_ requests: [CheckpointRequest], now: Date) async throws -> [String: CheckpointResult] {
        guard !requests.isEmpty else { return [:] }
        let ids = requests.map(\.sessionID)
        return try await write { db in
            // One transaction for the whole tick. Every license the batch touches is locked first,
            // in id order, so no other instance admits or bills against it until the batch commits.
            // The facts are then read in a few statements for the whole batch, each session is
            // decided in memory (what several sessions of a license share carried along), and the
            // decisions are written in a few statements more.
            let licenseIDs = try await db.rows("SELECT DISTINCT license_id FROM stream_sessions WHERE id = ANY(\(ids))")
                .map { try $0["license_id", as: String.self] }
            var batch = CheckpointBatch()
            batch.licenses = try await Self.lockLicenses(db, ids: licenseIDs)
            var sessions = try await Self.sessionStates(db, ids: ids)
            var results: [String: CheckpointResult] = [:]
            results.reserveCapacity(requests.count)
            // A session another instance took over is neither billed, reserved nor renewed here.
            var owned: [CheckpointRequest] = []
            owned.reserveCapacity(requests.count)
            for request in requests {
                guard let session = sessions[request.sessionID] else { continue }
                if let owner = request.owner, session.owner != owner {
                    results[request.sessionID] = .movedAway(billedMs: session.billedMs)
                } else {
                    owned.append(request)
                }
            }
            let heldLeases = try await Self.renewLeases(db, owned, sessions: sessions, now: now)
            try await Self.readLicenseFacts(db, licenseIDs: licenseIDs, batch: &batch, now: now)
            var counted = try await Self.countedSessions(db, ids: ids)
            var writes = PostgresCheckpointWrites()
            for request in owned {
                guard let session = sessions[request.sessionID] else { continue }
                let (result, after) = try Self.checkpoint(
                    request, session: session, leaseHeld: heldLeases.contains(session.leaseID), counted: &counted,
                    batch: &batch, writes: &writes, now: now)
                results[request.sessionID] = result
                sessions[request.sessionID] = after
            }
            try await writes.flush(db, billed: batch.billed, now: now)
            return results
        }
    }

    /// A session's row as a checkpoint reads it, carried through the batch (a session named
    /// twice in one batch sees its own first checkpoint, as it would row by row).
    struct CheckpointSession {
        var licenseID: String
        var leaseID: String
        var billedMs: Int64
        var reservedMs: Int64
        var firstAudioRecorded: Bool
        var live: Bool
        var owner: String?
        var stopRequested: ErrorCode?
    }

    private static func sessionStates(_ db: PostgresTransaction, ids: [String]) async throws -> [String: CheckpointSession] {
        var sessions: [String: CheckpointSession] = [:]
        for row in try await db.rows("""
            SELECT id, license_id, lease_id, billed_ms, reserved_ms, first_audio_at IS NOT NULL AS first_audio, status,
                owner_instance, stop_requested
            FROM stream_sessions WHERE id = ANY(\(ids))
            """)
        {
            sessions[try row["id"]] = CheckpointSession(
                licenseID: try row["license_id"], leaseID: try row["lease_id"], billedMs: try row["billed_ms"],
                reservedMs: try row["reserved_ms"], firstAudioRecorded: try row["first_audio"],
                live: try row["status", as: String.self] == StreamSessionRecord.Status.live.rawValue,
                owner: try row["owner_instance"],
                stopRequested: try row["stop_requested", as: String?.self].map(ErrorCode.init(rawValue:)))
        }
        return sessions
    }

    /// Renews, in one statement, the leases that still exist: a released or lapsed one is not
    /// revived. Returns the ids of the leases renewed.
    private static func renewLeases(
        _ db: PostgresTransaction, _ requests: [CheckpointRequest], sessions: [String: CheckpointSession], now: Date
    ) async throws -> Set<String> {
        var leaseIDs: [String] = [], expiries: [Int64] = []
        for request in requests {
            guard let session = sessions[request.sessionID] else { continue }
            leaseIDs.append(session.leaseID)
            expiries.append(Milliseconds.from(now.addingTimeInterval(request.leaseTTL)))
        }
        guard !leaseIDs.isEmpty else { return [] }
        let rows = try await db.rows("""
            UPDATE leases l SET expires_at = r.expires_at
            FROM unnest(\(leaseIDs)::TEXT[], \(expiries)::BIGINT[]) AS r(id, expires_at)
            WHERE l.id = r.id AND l.expires_at > \(Milliseconds.from(now))
            RETURNING l.id
            """)
        return Set(try rows.map { try $0["id", as: String.self] })
    }

    /// Per license, what the policy needs beside the license row: today's usage, what its live
    /// sessions hold, and how many sessions take a place under `max_concurrent` (unchanged by
    /// the batch, which renews only leases that are still held).
    private static func readLicenseFacts(
        _ db: PostgresTransaction, licenseIDs: [String], batch: inout CheckpointBatch, now: Date
    ) async throws {
        guard !licenseIDs.isEmpty else { return }
        let day = UTCDay(containing: now).description
        let nowMs = Milliseconds.from(now)
        for row in try await db.rows("""
            SELECT license_id, used_ms FROM daily_usage WHERE license_id = ANY(\(licenseIDs)) AND day = \(day)
            """)
        {
            batch.usedToday[try row["license_id"]] = try row["used_ms"]
        }
        for row in try await db.rows("""
            SELECT license_id, COALESCE(SUM(reserved_ms), 0)::BIGINT AS reserved FROM stream_sessions
            WHERE license_id = ANY(\(licenseIDs)) AND status = 'live' GROUP BY license_id
            """)
        {
            batch.reservedByLive[try row["license_id"]] = try row["reserved"]
        }
        var bindings = PostgresBindings()
        bindings.append(licenseIDs)
        bindings.append(nowMs)
        for row in try await db.rows(PostgresQuery(unsafeSQL: """
            SELECT c.id AS license_id, (\(activeSessionCountSQL(license: "c.id", now: "$2"))) AS active
            FROM unnest($1::TEXT[]) AS c(id)
            """, binds: bindings))
        {
            batch.activeCounts[try row["license_id"]] = try row["active"]
        }
        for (id, read) in batch.licenses where !read.deleted && read.license.chat != nil {
            batch.chat[id] = try await chatSnapshot(db, license: read.license, now: now)
        }
    }

    /// The sessions of the batch already counted once (their `session_start` ledger row exists).
    private static func countedSessions(_ db: PostgresTransaction, ids: [String]) async throws -> Set<String> {
        let keys = ids.map(sessionStartKey)
        let rows = try await db.rows("SELECT session_id FROM ledger WHERE idempotency_key = ANY(\(keys))")
        return Set(try rows.map { try $0["session_id", as: String.self] })
    }

    /// The ledger's unique idempotency key that makes a session count once.
    private static func sessionStartKey(_ sessionID: String) -> String { "session_start:\(sessionID)" }

    /// Takes the facts the batch read, asks `MeteringPolicy`, and records what it decided.
    private static func checkpoint(
        _ request: CheckpointRequest, session: CheckpointSession, leaseHeld: Bool, counted: inout Set<String>,
        batch: inout CheckpointBatch, writes: inout PostgresCheckpointWrites, now: Date
    ) throws -> (CheckpointResult, CheckpointSession) {
        let id = request.sessionID
        let licenseID = session.licenseID
        // A deleted license is still billed for what was forwarded; it just grants nothing more.
        guard let read = batch.licenses[licenseID] else {
            throw StoreError.corruptRow("stream session \(id) names no license")
        }
        let held = session.reservedMs
        let others = (batch.reservedByLive[licenseID] ?? 0) - (session.live ? held : 0)
        let facts = CheckpointFacts(
            license: read.license, licenseDeleted: read.deleted, sessionLive: session.live, leaseHeld: leaseHeld,
            billedMs: session.billedMs, heldReservationMs: held, firstAudioRecorded: session.firstAudioRecorded,
            usedTodayMs: batch.usedToday[licenseID] ?? 0, othersReservedMs: others)
        let decision = MeteringPolicy.checkpoint(request, facts: facts, now: now)

        // Counted once: a session whose start is in the ledger already is not counted again.
        var countedSession = false
        if decision.countsSessionStart, !counted.contains(id) {
            counted.insert(id)
            countedSession = true
            let remaining = facts.license.remainingMs
            writes.append(.init(
                licenseID: licenseID, sessionID: id, kind: .sessionStart, requestedMs: 0, amountMs: 0,
                balanceBeforeMs: remaining, balanceAfterMs: remaining, reason: "session_start",
                idempotencyKey: sessionStartKey(id)))
            writes.countSessionStart(licenseID: licenseID)
        }
        var license = decision.license
        if !countedSession { license.sessionsUsed = facts.license.sessionsUsed }
        if let debit = decision.debit {
            writes.append(.init(
                licenseID: licenseID, sessionID: id, kind: .debit, requestedMs: debit.requestedMs, amountMs: debit.amountMs,
                balanceBeforeMs: debit.balanceBeforeMs, balanceAfterMs: debit.balanceAfterMs, reason: "metered_audio",
                idempotencyKey: debit.idempotencyKey))
            batch.billed[licenseID, default: (0, 0)].usedMs = license.usedMs
            batch.billed[licenseID, default: (0, 0)].addedMs += debit.amountMs
        }
        writes.update(session: id, .init(
            billedMs: decision.billedMs, reservedMs: decision.reservedMs, lastSequence: request.lastSequence,
            firstAudio: decision.countsSessionStart))
        batch.licenses[licenseID] = (license, read.deleted)
        batch.usedToday[licenseID] = decision.usedTodayMs
        batch.reservedByLive[licenseID] = others + (session.live ? decision.reservedMs : 0)
        let active = batch.activeCounts[licenseID] ?? 0
        var quota = license.quota(usedTodayMs: decision.usedTodayMs, activeLeases: active, now: now)
        quota.chat = batch.chat[licenseID]
        var after = session
        after.billedMs = decision.billedMs
        after.reservedMs = decision.reservedMs
        after.firstAudioRecorded = session.firstAudioRecorded || decision.countsSessionStart
        let result = CheckpointResult(
            billedMs: decision.billedMs, appliedMs: decision.debit?.amountMs ?? 0,
            reservedMs: decision.reservedMs, limitedBy: decision.limitedBy, countedSession: countedSession,
            license: read.deleted ? nil : license, quota: read.deleted ? nil : quota, leaseHeld: leaseHeld && session.live,
            stopRequested: session.stopRequested)
        return (result, after)
    }

    public func closeStreamSession(id: String, owner: String?, reason: ErrorCode, now: Date) async throws {
        try await write { db in
            guard let licenseID = try await db.first("SELECT license_id FROM stream_sessions WHERE id = \(id)")?["license_id", as: String.self]
            else { return }
            // Its license first, as a checkpoint locks it: closing gives back a reservation and a slot.
            _ = try await Self.lockLicenses(db, ids: [licenseID])
            let leaseID = try await db.first("""
                UPDATE stream_sessions SET status = 'closed', reserved_ms = 0, ended_at = \(Milliseconds.from(now)),
                    stop_reason = \(reason.rawValue)
                WHERE id = \(id) AND status = 'live' AND (\(owner)::TEXT IS NULL OR owner_instance = \(owner))
                RETURNING lease_id
                """)?["lease_id", as: String.self]
            if let leaseID {
                try await db.execute("DELETE FROM leases WHERE id = \(leaseID)")
            }
        }
    }

    public func takeOverStreamSession(id: String, owner: String, now: Date) async throws -> StreamSessionRecord? {
        try await autocommit { db in
            try await db.first("""
                UPDATE stream_sessions SET owner_instance = \(owner) WHERE id = \(id) AND status = 'live' RETURNING *
                """).map(PostgresRows.streamSession)
        }
    }

    public func requestStreamSessionStop(id: String, reason: ErrorCode, now: Date) async throws -> StreamSessionRecord? {
        try await autocommit { db in
            try await db.first("""
                UPDATE stream_sessions SET stop_requested = \(reason.rawValue) WHERE id = \(id) AND status = 'live' RETURNING *
                """).map(PostgresRows.streamSession)
        }
    }

    public func settleStreamSessions(instance: String, restarting: Bool, lapsedBefore: Date, now: Date) async throws -> Int {
        let lapsed = "NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.owner_instance AND i.heartbeat_at >= $2)"
        let unowned = restarting
            ? "s.status = 'live' AND (s.owner_instance IS NULL OR (s.owner_instance = $1 AND COALESCE(s.last_checkpoint_at, s.started_at) < $2) OR \(lapsed))"
            : "s.status = 'live' AND s.owner_instance <> $1 AND \(lapsed)"
        return try await write { db in
            let licenseIDs = try await db.rows(PostgresQuery(
                unsafeSQL: "SELECT DISTINCT license_id FROM stream_sessions s WHERE \(unowned)",
                binds: Self.bindings(instance, Milliseconds.from(lapsedBefore))))
                .map { try $0["license_id", as: String.self] }
            guard !licenseIDs.isEmpty else { return 0 }
            // Licenses first, in the order every locker uses: settling gives back reservations and slots.
            _ = try await Self.lockLicenses(db, ids: licenseIDs)
            let leaseIDs = try await db.rows(PostgresQuery(
                unsafeSQL: """
                    UPDATE stream_sessions s SET status = 'closed', reserved_ms = 0,
                        ended_at = COALESCE(s.last_checkpoint_at, s.started_at),
                        stop_reason = CASE WHEN s.owner_instance IS NULL OR s.owner_instance = $1 THEN $3 ELSE $4 END
                    WHERE \(unowned) AND s.license_id = ANY($5)
                    RETURNING s.lease_id
                    """,
                binds: {
                    var binds = Self.bindings(
                        instance, Milliseconds.from(lapsedBefore), ErrorCode.serverRestart.rawValue,
                        ErrorCode.instanceLost.rawValue)
                    binds.append(licenseIDs)
                    return binds
                }()))
                .map { try $0["lease_id", as: String.self] }
            if !leaseIDs.isEmpty {
                try await db.execute("DELETE FROM leases WHERE id = ANY(\(leaseIDs))")
            }
            return leaseIDs.count
        }
    }

    public func streamSession(id: String) async throws -> StreamSessionRecord? {
        try await read { db in
            try await db.first("SELECT * FROM stream_sessions WHERE id = \(id)").map(PostgresRows.streamSession)
        }
    }

    public func streamSessions(_ query: UsageQuery, limit: Int) async throws -> [StreamSessionRecord] {
        let (from, before) = query.startedRangeMs
        return try await read { db in
            try await db.rows("""
                SELECT * FROM stream_sessions
                WHERE (\(from)::BIGINT IS NULL OR started_at >= \(from)::BIGINT)
                  AND (\(before)::BIGINT IS NULL OR started_at < \(before)::BIGINT)
                  AND (\(query.licenseID)::TEXT IS NULL OR license_id = \(query.licenseID)::TEXT)
                ORDER BY started_at, id COLLATE "C" LIMIT \(limit)
                """).map(PostgresRows.streamSession)
        }
    }

    public func liveStreamSession(leaseID: String) async throws -> StreamSessionRecord? {
        try await read { db in
            try await db.first("SELECT * FROM stream_sessions WHERE lease_id = \(leaseID) AND status = 'live'")
                .map(PostgresRows.streamSession)
        }
    }

    public func liveStreamSessions() async throws -> [StreamSessionRecord] {
        try await read { db in
            try await db.rows("SELECT * FROM stream_sessions WHERE status = 'live' ORDER BY started_at, id COLLATE \"C\"")
                .map(PostgresRows.streamSession)
        }
    }

    public func recordProviderUsage(sessionID: String, usage: ProviderUsage) async throws {
        try await autocommit { db in
            try await db.execute("""
                UPDATE stream_sessions SET provider_audio_ms = COALESCE(provider_audio_ms, 0) + \(usage.audioMs),
                    provider_reported_seconds = CASE WHEN \(usage.reportedSeconds)::BIGINT IS NULL THEN provider_reported_seconds
                        ELSE COALESCE(provider_reported_seconds, 0) + \(usage.reportedSeconds)::BIGINT END,
                    translation_tokens = CASE WHEN \(usage.translationTokens)::BIGINT IS NULL THEN translation_tokens
                        ELSE COALESCE(translation_tokens, 0) + \(usage.translationTokens)::BIGINT END,
                    provider_reported_tokens = CASE WHEN \(usage.reportedTokens)::BIGINT IS NULL THEN provider_reported_tokens
                        ELSE COALESCE(provider_reported_tokens, 0) + \(usage.reportedTokens)::BIGINT END,
                    edge_sent_ms = COALESCE(\(usage.edgeSentMs)::BIGINT, edge_sent_ms)
                WHERE id = \(sessionID)
                """)
        }
    }
}
