import Foundation
import GRDB
import Protocol

/// Mapping between SQLite rows and the domain types.
enum SQLiteRows {
    static let licenseColumns = """
        id, key_prefix, customer_name, customer_email, plan, status, created_at, updated_at, starts_at,
        expires_at, validity_days, expiry_from_first_use, limit_ms, used_ms, session_limit, sessions_used,
        daily_cap_ms, max_concurrent, max_devices, ip_allowlist, notes, last_used_at, provider, chat_quota
        """

    static func license(_ row: Row) throws -> License {
        let statusText: String = row["status"]
        guard let status = LicenseStatus(rawValue: statusText) else {
            throw StoreError.corruptRow("unknown license status \(statusText)")
        }
        let allowlist = try StoredAllowlist.parse(row["ip_allowlist"], licenseID: row["id"] as String? ?? "?")
        return License(
            id: row["id"], keyPrefix: row["key_prefix"], customerName: row["customer_name"],
            customerEmail: row["customer_email"], plan: row["plan"], status: status,
            createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]),
            startsAt: date(row["starts_at"]), expiresAt: (row["expires_at"] as Int64?).map(Milliseconds.date),
            validityDays: row["validity_days"], expiryFromFirstUse: row["expiry_from_first_use"],
            limitMs: row["limit_ms"], usedMs: row["used_ms"], sessionLimit: row["session_limit"],
            sessionsUsed: row["sessions_used"], dailyCapMs: row["daily_cap_ms"],
            maxConcurrent: row["max_concurrent"], maxDevices: row["max_devices"],
            ipAllowlist: allowlist, notes: row["notes"],
            lastUsedAt: (row["last_used_at"] as Int64?).map(Milliseconds.date), provider: row["provider"],
            chat: try ChatQuota.stored(row["chat_quota"], owner: row["id"] as String? ?? "?"))
    }

    /// Writes every mutable column of `license` back to its row.
    static func update(_ license: License, db: Database) throws {
        try db.execute(
            sql: """
                UPDATE licenses SET customer_name = ?, customer_email = ?, plan = ?, status = ?, updated_at = ?,
                    starts_at = ?, expires_at = ?, validity_days = ?, expiry_from_first_use = ?, limit_ms = ?,
                    used_ms = ?, session_limit = ?, sessions_used = ?, daily_cap_ms = ?, max_concurrent = ?,
                    max_devices = ?, ip_allowlist = ?, notes = ?, last_used_at = ?, provider = ?, chat_quota = ?
                WHERE id = ?
                """,
            arguments: [
                license.customerName, license.customerEmail, license.plan, license.status.rawValue,
                Milliseconds.from(license.updatedAt), Milliseconds.from(license.startsAt),
                license.expiresAt.map(Milliseconds.from), license.validityDays, license.expiryFromFirstUse,
                license.limitMs, license.usedMs, license.sessionLimit, license.sessionsUsed, license.dailyCapMs,
                license.maxConcurrent, license.maxDevices, StoredAllowlist.json(license.ipAllowlist), license.notes,
                license.lastUsedAt.map(Milliseconds.from), license.provider, license.chat?.storedJSON, license.id,
            ])
    }

    static func plan(_ row: Row) throws -> Plan {
        Plan(
            name: row["name"], validityDays: row["validity_days"], minutes: row["minutes"],
            sessionLimit: row["session_limit"], maxConcurrent: row["max_concurrent"],
            maxDevices: row["max_devices"], dailyMinutes: row["daily_minutes"], description: row["description"],
            provider: row["provider"], chat: try ChatQuota.stored(row["chat_quota"], owner: row["name"] as String? ?? "?"))
    }

    static func upsert(_ plan: Plan, db: Database, now: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO plans (name, validity_days, minutes, session_limit, max_concurrent, max_devices,
                    daily_minutes, description, updated_at, provider, chat_quota)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET validity_days = excluded.validity_days, minutes = excluded.minutes,
                    session_limit = excluded.session_limit, max_concurrent = excluded.max_concurrent,
                    max_devices = excluded.max_devices, daily_minutes = excluded.daily_minutes,
                    description = excluded.description, updated_at = excluded.updated_at,
                    provider = excluded.provider, chat_quota = excluded.chat_quota
                """,
            arguments: [
                plan.name, plan.validityDays, plan.minutes, plan.sessionLimit, plan.maxConcurrent,
                plan.maxDevices, plan.dailyMinutes, plan.description, now, plan.provider, plan.chat?.storedJSON,
            ])
    }

    static func lease(_ row: Row) -> Lease {
        Lease(
            id: row["id"], licenseID: row["license_id"], deviceFingerprint: row["device_fingerprint"],
            holder: row["holder"], clientIP: row["client_ip"], createdAt: date(row["created_at"]),
            expiresAt: date(row["expires_at"]))
    }

    static func ledgerEntry(_ row: Row) -> LedgerEntry {
        LedgerEntry(
            sequence: row["seq"], licenseID: row["license_id"], sessionID: row["session_id"],
            kind: LedgerEntry.Kind(rawValue: row["kind"]) ?? .debit, amountMs: row["amount_ms"],
            balanceBeforeMs: row["balance_before_ms"], balanceAfterMs: row["balance_after_ms"],
            reason: row["reason"], idempotencyKey: row["idempotency_key"], createdAt: date(row["created_at"]),
            day: row["day"], quantity: row["quantity"])
    }

    static func auditEntry(_ row: Row) -> AuditEntry {
        AuditEntry(
            sequence: row["seq"], at: date(row["at"]), actor: row["actor"], ip: row["ip"], action: row["action"],
            licenseID: row["license_id"], detail: row["detail"])
    }

    static func date(_ ms: Int64) -> Date { Milliseconds.date(ms) }
}
