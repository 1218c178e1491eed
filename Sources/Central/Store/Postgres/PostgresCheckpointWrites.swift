import Foundation
import PostgresNIO

/// What one checkpoint batch writes, collected while its sessions are decided and then written
/// in a few statements (the ledger rows in one insert, the sessions in one update, each license
/// once), not in several round trips per session: a tick of thousands of sessions stays well
/// inside its interval.
struct PostgresCheckpointWrites {
    struct LedgerRow {
        var licenseID: String
        var sessionID: String
        var kind: LedgerEntry.Kind
        var requestedMs: Int64
        var amountMs: Int64
        var balanceBeforeMs: Int64
        var balanceAfterMs: Int64
        var reason: String
        var idempotencyKey: String
    }

    struct SessionRow {
        var billedMs: Int64
        var reservedMs: Int64
        var lastSequence: Int64
        var firstAudio: Bool
    }

    /// In the order the batch decided them (their sequence numbers follow it).
    private(set) var ledger: [LedgerRow] = []
    /// The last state of each session (a session named twice keeps its second checkpoint).
    private var sessions: [String: SessionRow] = [:]
    private var sessionOrder: [String] = []
    /// Sessions first counted in this batch, per license.
    private var sessionsStarted: [String: Int] = [:]

    mutating func append(_ row: LedgerRow) {
        ledger.append(row)
    }

    mutating func countSessionStart(licenseID: String) {
        sessionsStarted[licenseID, default: 0] += 1
    }

    mutating func update(session id: String, _ row: SessionRow) {
        if let earlier = sessions[id] {
            sessions[id] = SessionRow(
                billedMs: row.billedMs, reservedMs: row.reservedMs, lastSequence: max(earlier.lastSequence, row.lastSequence),
                firstAudio: earlier.firstAudio || row.firstAudio)
        } else {
            sessions[id] = row
            sessionOrder.append(id)
        }
    }

    /// Writes everything; `billed` is the batch's new total and addition per license.
    func flush(_ db: PostgresTransaction, billed: [String: (usedMs: Int64, addedMs: Int64)], now: Date) async throws {
        let nowMs = Milliseconds.from(now)
        let day = UTCDay(containing: now).description
        if !ledger.isEmpty {
            try await db.execute("""
                INSERT INTO ledger (license_id, session_id, kind, requested_ms, amount_ms, balance_before_ms,
                    balance_after_ms, reason, idempotency_key, created_at, day)
                SELECT r.license_id, r.session_id, r.kind, r.requested_ms, r.amount_ms, r.balance_before_ms,
                    r.balance_after_ms, r.reason, r.idempotency_key, \(nowMs), \(day)
                FROM unnest(\(ledger.map(\.licenseID))::TEXT[], \(ledger.map(\.sessionID))::TEXT[],
                    \(ledger.map(\.kind.rawValue))::TEXT[], \(ledger.map(\.requestedMs))::BIGINT[],
                    \(ledger.map(\.amountMs))::BIGINT[], \(ledger.map(\.balanceBeforeMs))::BIGINT[],
                    \(ledger.map(\.balanceAfterMs))::BIGINT[], \(ledger.map(\.reason))::TEXT[],
                    \(ledger.map(\.idempotencyKey))::TEXT[])
                    WITH ORDINALITY AS r(license_id, session_id, kind, requested_ms, amount_ms, balance_before_ms,
                        balance_after_ms, reason, idempotency_key, n)
                ORDER BY r.n
                """)
        }
        if !sessionOrder.isEmpty {
            let rows = sessionOrder.compactMap { sessions[$0] }
            try await db.execute("""
                UPDATE stream_sessions s SET billed_ms = r.billed_ms, reserved_ms = r.reserved_ms,
                    last_sequence = GREATEST(s.last_sequence, r.last_sequence), last_checkpoint_at = \(nowMs),
                    first_audio_at = CASE WHEN r.first_audio THEN \(nowMs) ELSE s.first_audio_at END
                FROM unnest(\(sessionOrder)::TEXT[], \(rows.map(\.billedMs))::BIGINT[], \(rows.map(\.reservedMs))::BIGINT[],
                    \(rows.map(\.lastSequence))::BIGINT[], \(rows.map(\.firstAudio))::BOOLEAN[])
                    AS r(id, billed_ms, reserved_ms, last_sequence, first_audio)
                WHERE s.id = r.id
                """)
        }
        // A license's totals once per batch, however many of its sessions were billed or counted.
        for licenseID in Set(billed.keys).union(sessionsStarted.keys).sorted() {
            try await db.execute("""
                UPDATE licenses SET used_ms = COALESCE(\(billed[licenseID]?.usedMs), used_ms),
                    sessions_used = sessions_used + \(sessionsStarted[licenseID] ?? 0), last_used_at = \(nowMs)
                WHERE id = \(licenseID)
                """)
            if let added = billed[licenseID]?.addedMs {
                try await PostgresCentralStore.addDailyUsage(db, licenseID: licenseID, day: day, amountMs: added)
            }
        }
    }
}
