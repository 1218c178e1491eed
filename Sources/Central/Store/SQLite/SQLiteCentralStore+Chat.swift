import Foundation
import GRDB
import Protocol

extension SQLiteCentralStore {
    public func reserveChatRequest(_ request: ChatReservationRequest, now: Date) async throws -> ChatReservationOutcome? {
        try await pool.write { db in
            // One writer at a time (IMMEDIATE): what is counted here is what the reservation joins.
            guard let license = try Self.license(db, id: request.licenseID) else { return nil }
            let usage = try license.chat.map { try Self.chatUsage(db, licenseID: license.id, quota: $0, now: now) } ?? ChatUsageCounts()
            let outcome = ChatQuotaPolicy.reserve(request, license: license, usage: usage, now: now)
            if case .reserved(let reservation) = outcome {
                try db.execute(
                    sql: """
                        INSERT INTO chat_requests (id, license_id, day, model, upstream, status, created_at, expires_at, reserved_tokens)
                        VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?, ?)
                        """,
                    arguments: [
                        request.id, license.id, reservation.day, request.model, request.upstream, Milliseconds.from(now),
                        Milliseconds.from(request.expiresAt), reservation.reservedTokens,
                    ])
            }
            return outcome
        }
    }

    public func settleChatRequest(id: String, usage: ChatTokenUsage, now: Date) async throws -> Bool {
        try await pool.write { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT license_id, day FROM chat_requests WHERE id = ? AND status = 'reserved'", arguments: [id])
            else { return false }
            let licenseID: String = row["license_id"]
            let day: String = row["day"]
            try db.execute(
                sql: """
                    UPDATE chat_requests SET status = 'settled', input_tokens = ?, output_tokens = ?, usage_source = ?, settled_at = ?
                    WHERE id = ?
                    """,
                arguments: [usage.inputTokens, usage.outputTokens, usage.source.rawValue, Milliseconds.from(now), id])
            let balance = try Self.license(db, id: licenseID)?.remainingMs ?? 0
            for (kind, quantity) in ChatLedger.rows(usage) {
                try Self.appendLedger(
                    db, licenseID: licenseID, sessionID: nil, kind: kind, requestedMs: 0, amountMs: 0, balanceBefore: balance,
                    balanceAfter: balance, reason: ChatLedger.reason(usage), idempotencyKey: ChatLedger.idempotencyKey(id, kind),
                    now: now, day: day, quantity: quantity)
            }
            return true
        }
    }

    public func releaseChatRequest(id: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE chat_requests SET status = 'released', settled_at = ? WHERE id = ? AND status = 'reserved'",
                arguments: [Milliseconds.from(now), id])
        }
    }

    public func chatUsage(licenseID: String, quota: ChatQuota, now: Date) async throws -> ChatUsageCounts {
        try await pool.read { db in try Self.chatUsage(db, licenseID: licenseID, quota: quota, now: now) }
    }

    /// The chat part of a license's quota; nil for a license without chat quotas.
    static func chatSnapshot(_ db: Database, license: License, now: Date) throws -> ChatQuotaSnapshot? {
        guard let quota = license.chat else { return nil }
        return ChatQuotaPolicy.snapshot(quota, usage: try chatUsage(db, licenseID: license.id, quota: quota, now: now), now: now)
    }

    /// Settled requests at what they used, open reservations at what they hold until they
    /// lapse; released ones not at all.
    static func chatUsage(_ db: Database, licenseID: String, quota: ChatQuota, now: Date) throws -> ChatUsageCounts {
        let nowMs = Milliseconds.from(now)
        let minuteAgo = nowMs - 60_000
        let day = ChatQuotaPolicy.day(of: now, in: quota.zone)
        let tokens = "CASE WHEN status = 'settled' THEN input_tokens + output_tokens WHEN expires_at > ? THEN reserved_tokens ELSE 0 END"
        guard let row = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(CASE WHEN day = ? THEN 1 ELSE 0 END), 0) AS requests_today,
                    COALESCE(SUM(CASE WHEN day = ? THEN \(tokens) ELSE 0 END), 0) AS tokens_today,
                    COALESCE(SUM(\(tokens)), 0) AS tokens_used,
                    COALESCE(SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END), 0) AS last_minute,
                    MIN(CASE WHEN created_at > ? THEN created_at END) AS oldest
                FROM chat_requests WHERE license_id = ? AND status != 'released'
                """,
            arguments: [day, day, nowMs, nowMs, minuteAgo, minuteAgo, licenseID])
        else { return ChatUsageCounts() }
        return ChatUsageCounts(
            requestsToday: row["requests_today"], tokensToday: row["tokens_today"], tokensUsed: row["tokens_used"],
            requestsLastMinute: row["last_minute"], oldestInLastMinute: (row["oldest"] as Int64?).map(Milliseconds.date))
    }
}
