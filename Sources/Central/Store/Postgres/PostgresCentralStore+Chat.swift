import Foundation
import PostgresNIO
import Protocol

extension PostgresCentralStore {
    public func reserveChatRequest(_ request: ChatReservationRequest, now: Date) async throws -> ChatReservationOutcome? {
        try await write { db in
            // The license row's lock serialises this license's reservations on every instance:
            // what is counted below cannot change until the reservation is written.
            guard let license = try await Self.license(db, id: request.licenseID, forUpdate: true) else { return nil }
            var usage = ChatUsageCounts()
            if let quota = license.chat { usage = try await Self.chatUsage(db, licenseID: license.id, quota: quota, now: now) }
            let outcome = ChatQuotaPolicy.reserve(request, license: license, usage: usage, now: now)
            if case .reserved(let reservation) = outcome {
                try await db.execute("""
                    INSERT INTO chat_requests (id, license_id, day, model, upstream, status, created_at, expires_at, reserved_tokens)
                    VALUES (\(request.id), \(license.id), \(reservation.day), \(request.model), \(request.upstream), 'reserved',
                        \(Milliseconds.from(now)), \(Milliseconds.from(request.expiresAt)), \(reservation.reservedTokens))
                    """)
            }
            return outcome
        }
    }

    public func settleChatRequest(id: String, usage: ChatTokenUsage, now: Date) async throws -> Bool {
        try await write { db in
            // Settling is a state change of one row: the UPDATE decides who settles, once.
            guard let row = try await db.first("""
                UPDATE chat_requests SET status = 'settled', input_tokens = \(usage.inputTokens), output_tokens = \(usage.outputTokens),
                    usage_source = \(usage.source.rawValue), settled_at = \(Milliseconds.from(now))
                WHERE id = \(id) AND status = 'reserved'
                RETURNING license_id, day
                """)
            else { return false }
            let licenseID = try row["license_id", as: String.self]
            let day = try row["day", as: String.self]
            let balance = try await Self.license(db, id: licenseID)?.remainingMs ?? 0
            for (kind, quantity) in ChatLedger.rows(usage) {
                try await Self.appendLedger(
                    db, licenseID: licenseID, sessionID: nil, kind: kind, requestedMs: 0, amountMs: 0, balanceBefore: balance,
                    balanceAfter: balance, reason: ChatLedger.reason(usage), idempotencyKey: ChatLedger.idempotencyKey(id, kind),
                    now: now, day: day, quantity: quantity)
            }
            return true
        }
    }

    public func releaseChatRequest(id: String, now: Date) async throws {
        try await write { db in
            _ = try await db.execute("""
                UPDATE chat_requests SET status = 'released', settled_at = \(Milliseconds.from(now))
                WHERE id = \(id) AND status = 'reserved'
                """)
        }
    }

    public func chatUsage(licenseID: String, quota: ChatQuota, now: Date) async throws -> ChatUsageCounts {
        try await read { db in try await Self.chatUsage(db, licenseID: licenseID, quota: quota, now: now) }
    }

    /// The chat part of a license's quota; nil for a license without chat quotas.
    static func chatSnapshot(_ db: PostgresTransaction, license: License, now: Date) async throws -> ChatQuotaSnapshot? {
        guard let quota = license.chat else { return nil }
        return ChatQuotaPolicy.snapshot(quota, usage: try await chatUsage(db, licenseID: license.id, quota: quota, now: now), now: now)
    }

    /// Settled requests at what they used, open reservations at what they hold until they
    /// lapse; released ones not at all (as the SQLite store counts).
    static func chatUsage(_ db: PostgresTransaction, licenseID: String, quota: ChatQuota, now: Date) async throws -> ChatUsageCounts {
        let nowMs = Milliseconds.from(now)
        let minuteAgo = nowMs - 60_000
        let day = ChatQuotaPolicy.day(of: now, in: quota.zone)
        guard let row = try await db.first("""
            SELECT COALESCE(SUM(CASE WHEN day = \(day) THEN 1 ELSE 0 END), 0)::BIGINT AS requests_today,
                COALESCE(SUM(CASE WHEN day = \(day) THEN (CASE WHEN status = 'settled' THEN input_tokens + output_tokens
                    WHEN expires_at > \(nowMs) THEN reserved_tokens ELSE 0 END) ELSE 0 END), 0)::BIGINT AS tokens_today,
                COALESCE(SUM(CASE WHEN status = 'settled' THEN input_tokens + output_tokens
                    WHEN expires_at > \(nowMs) THEN reserved_tokens ELSE 0 END), 0)::BIGINT AS tokens_used,
                COALESCE(SUM(CASE WHEN created_at > \(minuteAgo) THEN 1 ELSE 0 END), 0)::BIGINT AS last_minute,
                MIN(CASE WHEN created_at > \(minuteAgo) THEN created_at END) AS oldest
            FROM chat_requests WHERE license_id = \(licenseID) AND status <> 'released'
            """)
        else { return ChatUsageCounts() }
        return ChatUsageCounts(
            requestsToday: Int(try row["requests_today", as: Int64.self]), tokensToday: try row["tokens_today"],
            tokensUsed: try row["tokens_used"], requestsLastMinute: Int(try row["last_minute", as: Int64.self]),
            oldestInLastMinute: try row.optionalDate("oldest"))
    }
}
