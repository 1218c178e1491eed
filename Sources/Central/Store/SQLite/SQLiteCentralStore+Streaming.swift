import Foundation
import GRDB
import Protocol

extension SQLiteCentralStore {
    public func openStreamSession(_ session: StreamSessionRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO stream_sessions (id, license_id, lease_id, device_fingerprint, client_ip, provider,
                        source_language, target_language, status, started_at, billed_ms, last_sequence)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'live', ?, 0, -1)
                    """,
                arguments: [
                    session.id, session.licenseID, session.leaseID, session.deviceFingerprint, session.clientIP,
                    session.provider, session.sourceLanguage, session.targetLanguage, Milliseconds.from(session.startedAt),
                ])
        }
    }

    public func checkpointStreamSession(
        id: String, acceptedMs: Int64, lastSequence: Int64, reserveMs: Int64, leaseTTL: TimeInterval, now: Date
    ) async throws -> CheckpointResult {
        let nowMs = Milliseconds.from(now)
        return try await pool.write { db in
            guard let session = try Row.fetchOne(
                try db.cachedStatement(sql: """
                    SELECT license_id, lease_id, billed_ms, reserved_ms, first_audio_at, status FROM stream_sessions WHERE id = ?
                    """),
                arguments: [id])
            else { throw StoreError.corruptRow("no stream session \(id)") }
            let licenseID: String = session["license_id"]
            let billed: Int64 = session["billed_ms"]
            let live = (session["status"] as String) == StreamSessionRecord.Status.live.rawValue
            var countedSession = false
            if acceptedMs > 0, (session["first_audio_at"] as Int64?) == nil {
                countedSession = try Self.countSessionStart(db, licenseID: licenseID, sessionID: id, now: now)
                try db.cachedStatement(sql: "UPDATE stream_sessions SET first_audio_at = ? WHERE id = ?")
                    .execute(arguments: [nowMs, id])
            }
            // Only a lease that still exists is renewed: a released or lapsed one is not revived.
            try db.cachedStatement(sql: "UPDATE leases SET expires_at = ? WHERE id = ? AND expires_at > ?")
                .execute(arguments: [Milliseconds.from(now.addingTimeInterval(leaseTTL)), session["lease_id"] as String, nowMs])
            let leaseHeld = db.changesCount > 0
            // A deleted license is still billed for what was forwarded; it just grants nothing more.
            guard let (read, deleted) = try Self.licenseIncludingDeleted(db, id: licenseID) else {
                throw StoreError.corruptRow("stream session \(id) names no license")
            }
            var license = read
            let others = try Int64.fetchOne(
                try db.cachedStatement(sql: """
                    SELECT COALESCE(SUM(reserved_ms), 0) FROM stream_sessions
                    WHERE license_id = ? AND status = 'live' AND id <> ?
                    """),
                arguments: [licenseID, id]) ?? 0
            let today = UTCDay(containing: now)
            let usedTodayBefore = try Self.usedMs(db, licenseID: licenseID, day: today)
            let mayStream = live && leaseHeld && !deleted && AdmissionPolicy.stateRefusal(license, now: now) == nil
            let budget = StreamBudgetPolicy.decide(
                license: license, usedTodayMs: usedTodayBefore, unbilledMs: max(0, acceptedMs - billed),
                heldMs: session["reserved_ms"], othersReservedMs: others, wantedMs: mayStream ? reserveMs : 0)
            let delta = acceptedMs - billed
            if delta > 0, budget.billMs > 0 {
                let used = license.usedMs + budget.billMs
                try db.cachedStatement(sql: "UPDATE licenses SET used_ms = ?, last_used_at = ? WHERE id = ?")
                    .execute(arguments: [used, nowMs, licenseID])
                // The key names the watermark this debit reaches, so it is unique per session and amount.
                try Self.appendLedger(
                    db, licenseID: licenseID, sessionID: id, kind: .debit, requestedMs: delta, amountMs: budget.billMs,
                    balanceBefore: license.limitMs - license.usedMs, balanceAfter: license.limitMs - used,
                    reason: "metered_audio", idempotencyKey: "stream:\(id):upto:\(billed + budget.billMs)", now: now)
                license.usedMs = used
            }
            try db.cachedStatement(sql: """
                UPDATE stream_sessions SET billed_ms = ?, reserved_ms = ?, last_sequence = MAX(last_sequence, ?),
                    last_checkpoint_at = ?
                WHERE id = ?
                """).execute(arguments: [billed + (delta > 0 ? budget.billMs : 0), budget.reservedMs, lastSequence, nowMs, id])
            let applied = delta > 0 ? budget.billMs : 0
            let usedToday = usedTodayBefore + applied
            let quota = license.quota(
                usedTodayMs: usedToday, activeLeases: try Self.activeSessionCount(db, licenseID: licenseID, now: now), now: now)
            return CheckpointResult(
                billedMs: billed + applied, appliedMs: applied,
                reservedMs: budget.reservedMs, limitedBy: budget.limitedBy, countedSession: countedSession,
                license: deleted ? nil : license, quota: deleted ? nil : quota, leaseHeld: leaseHeld && live)
        }
    }

    public func closeStreamSession(id: String, reason: ErrorCode, now: Date) async throws {
        try await pool.write { db in
            let leaseID = try String.fetchOne(db, sql: "SELECT lease_id FROM stream_sessions WHERE id = ? AND status = 'live'", arguments: [id])
            try db.execute(
                sql: "UPDATE stream_sessions SET status = 'closed', reserved_ms = 0, ended_at = ?, stop_reason = ? WHERE id = ? AND status = 'live'",
                arguments: [Milliseconds.from(now), reason.rawValue, id])
            if let leaseID {
                try db.execute(sql: "DELETE FROM leases WHERE id = ?", arguments: [leaseID])
            }
        }
    }

    public func settleOpenStreamSessions(now: Date) async throws -> Int {
        try await pool.write { db in
            let leaseIDs = try String.fetchAll(db, sql: "SELECT lease_id FROM stream_sessions WHERE status = 'live'")
            for leaseID in leaseIDs {
                try db.execute(sql: "DELETE FROM leases WHERE id = ?", arguments: [leaseID])
            }
            try db.execute(
                sql: "UPDATE stream_sessions SET status = 'closed', reserved_ms = 0, ended_at = COALESCE(last_checkpoint_at, started_at), stop_reason = ? WHERE status = 'live'",
                arguments: [ErrorCode.serverRestart.rawValue])
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
            stopReason: (row["stop_reason"] as String?).map(ErrorCode.init(rawValue:)))
    }
}
