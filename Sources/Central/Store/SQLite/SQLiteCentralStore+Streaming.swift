import Foundation
import GRDB
import Protocol

extension SQLiteCentralStore {
    public func openStreamSession(_ session: StreamSessionRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO stream_sessions (id, license_id, lease_id, device_fingerprint, client_ip, provider,
                        source_language, target_language, status, started_at, billed_ms, last_sequence, owner_instance)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'live', ?, 0, -1, ?)
                    """,
                arguments: [
                    session.id, session.licenseID, session.leaseID, session.deviceFingerprint, session.clientIP,
                    session.provider, session.sourceLanguage, session.targetLanguage, Milliseconds.from(session.startedAt),
                    session.owner,
                ])
        }
    }

    public func checkpointStreamSessions(_ requests: [CheckpointRequest], now: Date) async throws -> [String: CheckpointResult] {
        guard !requests.isEmpty else { return [:] }
        return try await pool.write { db in
            // One transaction for the whole tick; what several sessions of a license share (the
            // license row, today's usage, the live count) is read once and carried along.
            var batch = CheckpointBatch()
            var results: [String: CheckpointResult] = [:]
            results.reserveCapacity(requests.count)
            for request in requests {
                if let result = try Self.checkpoint(db, request, batch: &batch, now: now) {
                    results[request.sessionID] = result
                }
            }
            // A license's totals once per batch, however many of its sessions were billed.
            let day = UTCDay(containing: now).description
            for (licenseID, billed) in batch.billed {
                try db.cachedStatement(sql: "UPDATE licenses SET used_ms = ?, last_used_at = ? WHERE id = ?")
                    .execute(arguments: [billed.usedMs, Milliseconds.from(now), licenseID])
                try Self.addDailyUsage(db, licenseID: licenseID, day: day, amountMs: billed.addedMs)
            }
            return results
        }
    }

    /// Reads the facts, asks `MeteringPolicy`, writes what it decided. Nil when the session is unknown.
    private static func checkpoint(
        _ db: Database, _ request: CheckpointRequest, batch: inout CheckpointBatch, now: Date
    ) throws -> CheckpointResult? {
        let id = request.sessionID
        let nowMs = Milliseconds.from(now)
        guard let session = try Row.fetchOne(
            try db.cachedStatement(sql: """
                SELECT license_id, lease_id, billed_ms, reserved_ms, first_audio_at, status, owner_instance, stop_requested
                FROM stream_sessions WHERE id = ?
                """),
            arguments: [id])
        else { return nil }
        if let owner = request.owner, (session["owner_instance"] as String?) != owner {
            return .movedAway(billedMs: session["billed_ms"])
        }
        let licenseID: String = session["license_id"]
        // Only a lease that still exists is renewed: a released or lapsed one is not revived.
        try db.cachedStatement(sql: "UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?")
            .execute(arguments: [Milliseconds.from(now.addingTimeInterval(request.leaseTTL)), session["lease_id"] as String, nowMs])
        let leaseHeld = db.changesCount > 0
        // A deleted license is still billed for what was forwarded; it just grants nothing more.
        let read: (license: License, deleted: Bool)
        if let known = batch.licenses[licenseID] {
            read = known
        } else {
            guard let fetched = try Self.licenseIncludingDeleted(db, id: licenseID) else {
                throw StoreError.corruptRow("stream session \(id) names no license")
            }
            read = fetched
        }
        let today = UTCDay(containing: now)
        let usedToday = try batch.usedToday[licenseID] ?? Self.usedMs(db, licenseID: licenseID, day: today)
        let live = (session["status"] as String) == StreamSessionRecord.Status.live.rawValue
        let held: Int64 = session["reserved_ms"]
        // What the license's live sessions hold, summed once per license and batch (not once
        // per session: a license with thousands of streams would make the tick quadratic).
        let reservedByLive: Int64
        if let known = batch.reservedByLive[licenseID] {
            reservedByLive = known
        } else {
            reservedByLive = try Int64.fetchOne(
                try db.cachedStatement(sql: """
                    SELECT COALESCE(SUM(reserved_ms), 0) FROM stream_sessions WHERE license_id = ? AND status = 'live'
                    """),
                arguments: [licenseID]) ?? 0
        }
        let others = reservedByLive - (live ? held : 0)
        let facts = CheckpointFacts(
            license: read.license, licenseDeleted: read.deleted, sessionLive: live, leaseHeld: leaseHeld,
            billedMs: session["billed_ms"], heldReservationMs: held,
            firstAudioRecorded: (session["first_audio_at"] as Int64?) != nil, usedTodayMs: usedToday,
            othersReservedMs: others)
        let decision = MeteringPolicy.checkpoint(request, facts: facts, now: now)

        var countedSession = false
        if decision.countsSessionStart {
            countedSession = try Self.countSessionStart(
                db, licenseID: licenseID, sessionID: id, remainingMs: facts.license.remainingMs, now: now)
            try db.cachedStatement(sql: "UPDATE stream_sessions SET first_audio_at = ? WHERE id = ?")
                .execute(arguments: [nowMs, id])
        }
        var license = decision.license
        if !countedSession { license.sessionsUsed = facts.license.sessionsUsed }
        if let debit = decision.debit {
            try Self.appendLedger(
                db, licenseID: licenseID, sessionID: id, kind: .debit, requestedMs: debit.requestedMs,
                amountMs: debit.amountMs, balanceBefore: debit.balanceBeforeMs, balanceAfter: debit.balanceAfterMs,
                reason: "metered_audio", idempotencyKey: debit.idempotencyKey, now: now, updatingDailyUsage: false)
            batch.billed[licenseID, default: (0, 0)].usedMs = license.usedMs
            batch.billed[licenseID, default: (0, 0)].addedMs += debit.amountMs
        }
        try db.cachedStatement(sql: """
            UPDATE stream_sessions SET billed_ms = ?, reserved_ms = ?, last_sequence = MAX(last_sequence, ?),
                last_checkpoint_at = ?
            WHERE id = ?
            """).execute(arguments: [decision.billedMs, decision.reservedMs, request.lastSequence, nowMs, id])
        batch.licenses[licenseID] = (license, read.deleted)
        batch.usedToday[licenseID] = decision.usedTodayMs
        batch.reservedByLive[licenseID] = others + (live ? decision.reservedMs : 0)
        let active: Int
        if let known = batch.activeCounts[licenseID] {
            active = known
        } else {
            active = try Self.activeSessionCount(db, licenseID: licenseID, now: now)
            batch.activeCounts[licenseID] = active
        }
        var quota = license.quota(usedTodayMs: decision.usedTodayMs, activeLeases: active, now: now)
        if license.chat != nil {
            if batch.chat[licenseID] == nil { batch.chat[licenseID] = try Self.chatSnapshot(db, license: license, now: now) }
            quota.chat = batch.chat[licenseID]
        }
        return CheckpointResult(
            billedMs: decision.billedMs, appliedMs: decision.debit?.amountMs ?? 0,
            reservedMs: decision.reservedMs, limitedBy: decision.limitedBy, countedSession: countedSession,
            license: read.deleted ? nil : license, quota: read.deleted ? nil : quota, leaseHeld: leaseHeld && live,
            stopRequested: (session["stop_requested"] as String?).map(ErrorCode.init(rawValue:)))
    }

    /// Counts a session once: the ledger's unique idempotency key makes a second call a no-op.
    /// `remainingMs` is the license's balance as the caller's transaction read it (a deleted
    /// license's session still counts, like its audio is still billed).
    private static func countSessionStart(
        _ db: Database, licenseID: String, sessionID: String, remainingMs: Int64, now: Date
    ) throws -> Bool {
        let key = "session_start:\(sessionID)"
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM ledger WHERE idempotency_key = ?", arguments: [key]) == true {
            return false
        }
        try db.execute(
            sql: "UPDATE licenses SET sessions_used = sessions_used + 1, last_used_at = ? WHERE id = ?",
            arguments: [Milliseconds.from(now), licenseID])
        try Self.appendLedger(
            db, licenseID: licenseID, sessionID: sessionID, kind: .sessionStart, requestedMs: 0, amountMs: 0,
            balanceBefore: remainingMs, balanceAfter: remainingMs, reason: "session_start",
            idempotencyKey: key, now: now)
        return true
    }

    public func closeStreamSession(id: String, owner: String?, reason: ErrorCode, now: Date) async throws {
        try await pool.write { db in
            let condition = owner == nil ? "" : " AND owner_instance IS ?"
            let arguments: StatementArguments = owner.map { [id, $0] } ?? [id]
            let leaseID = try String.fetchOne(
                db, sql: "SELECT lease_id FROM stream_sessions WHERE id = ? AND status = 'live'" + condition, arguments: arguments)
            guard let leaseID else { return }
            try db.execute(
                sql: "UPDATE stream_sessions SET status = 'closed', reserved_ms = 0, ended_at = ?, stop_reason = ? WHERE id = ?",
                arguments: [Milliseconds.from(now), reason.rawValue, id])
            try db.execute(sql: "DELETE FROM leases WHERE id = ?", arguments: [leaseID])
        }
    }

    public func takeOverStreamSession(id: String, owner: String, now: Date) async throws -> StreamSessionRecord? {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE stream_sessions SET owner_instance = ? WHERE id = ? AND status = 'live'", arguments: [owner, id])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM stream_sessions WHERE id = ?", arguments: [id]).map(Self.streamSession)
        }
    }

    public func requestStreamSessionStop(id: String, reason: ErrorCode, now: Date) async throws -> StreamSessionRecord? {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE stream_sessions SET stop_requested = ? WHERE id = ? AND status = 'live'", arguments: [reason.rawValue, id])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM stream_sessions WHERE id = ?", arguments: [id]).map(Self.streamSession)
        }
    }

    public func settleStreamSessions(instance: String, restarting: Bool, lapsedBefore: Date, now: Date) async throws -> Int {
        try await pool.write { db in
            let lapsed = "owner_instance NOT IN (SELECT id FROM instances WHERE heartbeat_at >= ?)"
            // Its own: only those its previous run left quiet for the lapse. A fresher one may
            // be resumed on another instance any moment; a later call settles it if not.
            let unowned = restarting
                ? "status = 'live' AND (owner_instance IS NULL OR (owner_instance = ? AND COALESCE(last_checkpoint_at, started_at) < ?) OR \(lapsed))"
                : "status = 'live' AND owner_instance <> ? AND \(lapsed)"
            let cutoff = Milliseconds.from(lapsedBefore)
            let arguments: StatementArguments = restarting ? [instance, cutoff, cutoff] : [instance, cutoff]
            let leaseIDs = try String.fetchAll(db, sql: "SELECT lease_id FROM stream_sessions WHERE " + unowned, arguments: arguments)
            guard !leaseIDs.isEmpty else { return 0 }
            for leaseID in leaseIDs {
                try db.execute(sql: "DELETE FROM leases WHERE id = ?", arguments: [leaseID])
            }
            try db.execute(
                sql: """
                    UPDATE stream_sessions SET status = 'closed', reserved_ms = 0,
                        ended_at = COALESCE(last_checkpoint_at, started_at),
                        stop_reason = CASE WHEN owner_instance IS NULL OR owner_instance = ? THEN ? ELSE ? END
                    WHERE
                    """ + " " + unowned,
                arguments: [instance, ErrorCode.serverRestart.rawValue, ErrorCode.instanceLost.rawValue] + arguments)
            return leaseIDs.count
        }
    }

    public func streamSession(id: String) async throws -> StreamSessionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM stream_sessions WHERE id = ?", arguments: [id]).map(Self.streamSession)
        }
    }

    public func liveStreamSession(leaseID: String) async throws -> StreamSessionRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM stream_sessions WHERE lease_id = ? AND status = 'live'", arguments: [leaseID]
            ).map(Self.streamSession)
        }
    }

    public func liveStreamSessions() async throws -> [StreamSessionRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stream_sessions WHERE status = 'live' ORDER BY started_at").map(Self.streamSession)
        }
    }

    public func streamSessions(_ query: UsageQuery, limit: Int) async throws -> [StreamSessionRecord] {
        let (from, before) = query.startedRangeMs
        var conditions = ["1 = 1"]
        var arguments: StatementArguments = []
        if let from {
            conditions.append("started_at >= ?")
            arguments += [from]
        }
        if let before {
            conditions.append("started_at < ?")
            arguments += [before]
        }
        if let licenseID = query.licenseID {
            conditions.append("license_id = ?")
            arguments += [licenseID]
        }
        arguments += [limit]
        let sql = "SELECT * FROM stream_sessions WHERE \(conditions.joined(separator: " AND ")) ORDER BY started_at, id LIMIT ?"
        let bound = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map(Self.streamSession)
        }
    }

    static func streamSession(_ row: Row) -> StreamSessionRecord {
        StreamSessionRecord(
            id: row["id"], licenseID: row["license_id"], leaseID: row["lease_id"],
            deviceFingerprint: row["device_fingerprint"], clientIP: row["client_ip"], provider: row["provider"],
            sourceLanguage: row["source_language"], targetLanguage: row["target_language"],
            status: StreamSessionRecord.Status(rawValue: row["status"]) ?? .closed,
            startedAt: SQLiteRows.date(row["started_at"]),
            firstAudioAt: (row["first_audio_at"] as Int64?).map(Milliseconds.date),
            lastCheckpointAt: (row["last_checkpoint_at"] as Int64?).map(Milliseconds.date),
            billedMs: row["billed_ms"], lastSequence: row["last_sequence"],
            endedAt: (row["ended_at"] as Int64?).map(Milliseconds.date),
            stopReason: (row["stop_reason"] as String?).map(ErrorCode.init(rawValue:)), owner: row["owner_instance"],
            providerAudioMs: row["provider_audio_ms"], providerReportedSeconds: row["provider_reported_seconds"],
            providerReportedTokens: row["provider_reported_tokens"], translationTokens: row["translation_tokens"], edgeSentMs: row["edge_sent_ms"])
    }
}
