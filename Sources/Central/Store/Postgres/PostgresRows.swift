import Foundation
import PostgresNIO
import Protocol

/// Mapping between PostgreSQL rows and the domain types (the counterpart of `SQLiteRows`).
enum PostgresRows {
    static let licenseColumns = """
        id, key_prefix, customer_name, customer_email, plan, status, created_at, updated_at, starts_at,
        expires_at, validity_days, expiry_from_first_use, limit_ms, used_ms, session_limit, sessions_used,
        daily_cap_ms, max_concurrent, max_devices, ip_allowlist, notes, last_used_at, provider, chat_quota
        """

    static func license(_ row: PostgresRowReader) throws -> License {
        let statusText = try row["status", as: String.self]
        guard let status = LicenseStatus(rawValue: statusText) else {
            throw StoreError.corruptRow("unknown license status \(statusText)")
        }
        let id = try row["id", as: String.self]
        return License(
            id: id, keyPrefix: try row["key_prefix"], customerName: try row["customer_name"],
            customerEmail: try row["customer_email"], plan: try row["plan"], status: status,
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            startsAt: try row.date("starts_at"), expiresAt: try row.optionalDate("expires_at"),
            validityDays: try row["validity_days"], expiryFromFirstUse: try row["expiry_from_first_use"],
            limitMs: try row["limit_ms"], usedMs: try row["used_ms"], sessionLimit: try row["session_limit"],
            sessionsUsed: try row["sessions_used"], dailyCapMs: try row["daily_cap_ms"],
            maxConcurrent: try row["max_concurrent"], maxDevices: try row["max_devices"],
            ipAllowlist: try StoredAllowlist.parse(try row["ip_allowlist"], licenseID: id), notes: try row["notes"],
            lastUsedAt: try row.optionalDate("last_used_at"), provider: try row["provider"],
            chat: try ChatQuota.stored(try row["chat_quota"], owner: id))
    }

    /// Writes every mutable column of `license` back to its row.
    static func update(_ license: License, _ db: PostgresTransaction) async throws {
        try await db.execute("""
            UPDATE licenses SET customer_name = \(license.customerName), customer_email = \(license.customerEmail),
                plan = \(license.plan), status = \(license.status.rawValue), updated_at = \(Milliseconds.from(license.updatedAt)),
                starts_at = \(Milliseconds.from(license.startsAt)), expires_at = \(license.expiresAt.map(Milliseconds.from)),
                validity_days = \(license.validityDays), expiry_from_first_use = \(license.expiryFromFirstUse),
                limit_ms = \(license.limitMs), used_ms = \(license.usedMs), session_limit = \(license.sessionLimit),
                sessions_used = \(license.sessionsUsed), daily_cap_ms = \(license.dailyCapMs),
                max_concurrent = \(license.maxConcurrent), max_devices = \(license.maxDevices),
                ip_allowlist = \(StoredAllowlist.json(license.ipAllowlist)), notes = \(license.notes),
                last_used_at = \(license.lastUsedAt.map(Milliseconds.from)), provider = \(license.provider),
                chat_quota = \(license.chat?.storedJSON)
            WHERE id = \(license.id)
            """)
    }

    static func plan(_ row: PostgresRowReader) throws -> Plan {
        Plan(
            name: try row["name"], validityDays: try row["validity_days"], minutes: try row["minutes"],
            sessionLimit: try row["session_limit"], maxConcurrent: try row["max_concurrent"],
            maxDevices: try row["max_devices"], dailyMinutes: try row["daily_minutes"],
            description: try row["description"], provider: try row["provider"],
            chat: try ChatQuota.stored(try row["chat_quota"], owner: try row["name"]))
    }

    static func upsert(_ plan: Plan, _ db: PostgresTransaction, now: Int64) async throws {
        try await db.execute("""
            INSERT INTO plans (name, validity_days, minutes, session_limit, max_concurrent, max_devices,
                daily_minutes, description, updated_at, provider, chat_quota)
            VALUES (\(plan.name), \(plan.validityDays), \(plan.minutes), \(plan.sessionLimit), \(plan.maxConcurrent),
                \(plan.maxDevices), \(plan.dailyMinutes), \(plan.description), \(now), \(plan.provider), \(plan.chat?.storedJSON))
            ON CONFLICT (name) DO UPDATE SET validity_days = excluded.validity_days, minutes = excluded.minutes,
                session_limit = excluded.session_limit, max_concurrent = excluded.max_concurrent,
                max_devices = excluded.max_devices, daily_minutes = excluded.daily_minutes,
                description = excluded.description, updated_at = excluded.updated_at,
                provider = excluded.provider, chat_quota = excluded.chat_quota
            """)
    }

    static func lease(_ row: PostgresRowReader) throws -> Lease {
        Lease(
            id: try row["id"], licenseID: try row["license_id"], deviceFingerprint: try row["device_fingerprint"],
            holder: try row["holder"], clientIP: try row["client_ip"], createdAt: try row.date("created_at"),
            expiresAt: try row.date("expires_at"))
    }

    static func ledgerEntry(_ row: PostgresRowReader) throws -> LedgerEntry {
        LedgerEntry(
            sequence: try row["seq"], licenseID: try row["license_id"], sessionID: try row["session_id"],
            kind: LedgerEntry.Kind(rawValue: try row["kind"]) ?? .debit, amountMs: try row["amount_ms"],
            balanceBeforeMs: try row["balance_before_ms"], balanceAfterMs: try row["balance_after_ms"],
            reason: try row["reason"], idempotencyKey: try row["idempotency_key"],
            createdAt: try row.date("created_at"), day: try row["day"], quantity: try row["quantity"])
    }

    static func auditEntry(_ row: PostgresRowReader) throws -> AuditEntry {
        AuditEntry(
            sequence: try row["seq"], at: try row.date("at"), actor: try row["actor"], ip: try row["ip"],
            action: try row["action"], licenseID: try row["license_id"], detail: try row["detail"])
    }

    static func streamSession(_ row: PostgresRowReader) throws -> StreamSessionRecord {
        StreamSessionRecord(
            id: try row["id"], licenseID: try row["license_id"], leaseID: try row["lease_id"],
            deviceFingerprint: try row["device_fingerprint"], clientIP: try row["client_ip"],
            provider: try row["provider"], sourceLanguage: try row["source_language"],
            targetLanguage: try row["target_language"],
            status: StreamSessionRecord.Status(rawValue: try row["status"]) ?? .closed,
            startedAt: try row.date("started_at"), firstAudioAt: try row.optionalDate("first_audio_at"),
            lastCheckpointAt: try row.optionalDate("last_checkpoint_at"), billedMs: try row["billed_ms"],
            lastSequence: try row["last_sequence"], endedAt: try row.optionalDate("ended_at"),
            stopReason: try row["stop_reason", as: String?.self].map(ErrorCode.init(rawValue:)),
            owner: try row["owner_instance"], providerAudioMs: try row["provider_audio_ms"],
            providerReportedSeconds: try row["provider_reported_seconds"],
            providerReportedTokens: try row["provider_reported_tokens"], translationTokens: try row["translation_tokens"],
            edgeSentMs: try row["edge_sent_ms"])
    }

    static func providerKey(_ row: PostgresRowReader) throws -> ProviderKeyRecord {
        let id = try row["id", as: String.self]
        guard let source = ProviderKeyRecord.Source(rawValue: try row["source"]),
              let status = ProviderKeyRecord.Status(rawValue: try row["status"])
        else { throw StoreError.corruptRow("provider key \(id)") }
        var stats = ProviderKeyStats()
        stats.tasks = try row["tasks"]
        stats.audioMs = try row["audio_ms"]
        stats.authFailures = try row["auth_failures"]
        stats.rateLimited = try row["rate_limited"]
        stats.otherFailures = try row["other_failures"]
        stats.lastUsedAt = try row.optionalDate("last_used_at")
        stats.lastError = try row["last_error"]
        stats.lastErrorAt = try row.optionalDate("last_error_at")
        return ProviderKeyRecord(
            id: id, provider: try row["provider"], label: try row["label"], ciphertext: try row["ciphertext"],
            fingerprint: try row["fingerprint"], hint: try row["hint"], source: source, status: status,
            createdAt: try row.date("created_at"), stats: stats)
    }
}
