import Foundation
import GRDB
import Protocol

/// The embedded store: one SQLite file in WAL mode, through GRDB.
///
/// Writes run in IMMEDIATE transactions, so two central processes (or two pools) on the same
/// file serialise on SQLite's write lock and admission stays exact.
public final class SQLiteCentralStore: CentralStore {
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL + NORMAL: commits are durable against process crashes without an fsync each.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func checkReady() async throws {
        let complete = try await pool.read { db in try SQLiteMigrations.migrator.hasCompletedMigrations(db) }
        guard complete else { throw StoreError.notReady("migrations pending") }
    }

    // MARK: Plans

    public func plans() async throws -> [Plan] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM plans ORDER BY name").map(SQLiteRows.plan)
        }
    }

    public func plan(named name: String) async throws -> Plan? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM plans WHERE name = ?", arguments: [name]).map(SQLiteRows.plan)
        }
    }

    public func savePlan(_ plan: Plan, actor: AdminOperator, now: Date) async throws {
        try await pool.write { db in
            try SQLiteRows.upsert(plan, db: db, now: Milliseconds.from(now))
            try Self.appendAudit(db, action: "plan.save", licenseID: nil, detail: plan.name, actor: actor, now: now)
        }
    }

    // MARK: Licenses

    public func insertLicense(_ license: License, keyHash: String, actor: AdminOperator) async throws {
        try await pool.write { db in
            do {
                try db.execute(
                    sql: "INSERT INTO licenses (id, key_hash, key_prefix, customer_name, plan, status, created_at, updated_at, starts_at, validity_days, expiry_from_first_use, limit_ms, max_concurrent, max_devices) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        license.id, keyHash, license.keyPrefix, license.customerName, license.plan,
                        license.status.rawValue, Milliseconds.from(license.createdAt),
                        Milliseconds.from(license.updatedAt), Milliseconds.from(license.startsAt),
                        license.validityDays, license.expiryFromFirstUse, license.limitMs, license.maxConcurrent,
                        license.maxDevices,
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw StoreError.duplicateKey
            }
            try SQLiteRows.update(license, db: db)
            try Self.appendAudit(
                db, action: "license.create", licenseID: license.id,
                detail: "plan=\(license.plan) prefix=\(license.keyPrefix)", actor: actor, now: license.createdAt)
        }
    }

    public func license(id: String) async throws -> License? {
        try await pool.read { db in try Self.license(db, id: id) }
    }

    public func license(keyHash: String) async throws -> License? {
        try await pool.read { db in try Self.license(db, keyHash: keyHash) }
    }

    public func listLicenses(_ filter: LicenseFilter) async throws -> LicensePage {
        var conditions = ["deleted_at IS NULL"]
        var arguments: StatementArguments = []
        if let cursor = filter.cursor {
            guard let seq = Int64(cursor) else { throw StoreError.invalidCursor }
            conditions.append("seq < ?")
            arguments += [seq]
        }
        if let status = filter.status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        if let plan = filter.plan {
            conditions.append("plan = ?")
            arguments += [plan]
        }
        if let query = filter.query, !query.isEmpty {
            let pattern = "%" + query.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            conditions.append(
                "(id LIKE ? ESCAPE '\\' OR key_prefix LIKE ? ESCAPE '\\' OR customer_name LIKE ? ESCAPE '\\' OR customer_email LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\')"
            )
            arguments += [pattern, pattern, pattern, pattern, pattern]
        }
        let limit = max(1, min(filter.limit, 500))
        arguments += [limit + 1]
        let sql = "SELECT seq, \(SQLiteRows.licenseColumns) FROM licenses WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT ?"
        let finalArguments = arguments
        return try await pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: finalArguments)
            let page = rows.prefix(limit)
            let next: String? = rows.count > limit ? page.last.map { String($0["seq"] as Int64) } : nil
            return LicensePage(licenses: try page.map(SQLiteRows.license), nextCursor: next)
        }
    }

    public func modifyLicense(
        id: String, action: String, detail: String?, actor: AdminOperator, now: Date,
        _ change: @Sendable (inout License) throws -> Void
    ) async throws -> License? {
        try await pool.write { db in
            try Self.modifyLicense(db, id: id, action: action, detail: detail, actor: actor, now: now, change)
        }
    }

    /// `modifyLicense` inside a caller's transaction (a minutes request's approval tops up in its own).
    static func modifyLicense(
        _ db: Database, id: String, action: String, detail: String?, actor: AdminOperator, now: Date,
        _ change: (inout License) throws -> Void
    ) throws -> License? {
        guard var license = try Self.license(db, id: id) else { return nil }
        let before = license
        try change(&license)
        license.updatedAt = now
        try SQLiteRows.update(license, db: db)
        if license.limitMs != before.limitMs {
            try Self.appendLedger(
                db, licenseID: id, sessionID: nil, kind: .credit, requestedMs: license.limitMs - before.limitMs,
                amountMs: license.limitMs - before.limitMs, balanceBefore: before.remainingMs,
                balanceAfter: license.remainingMs, reason: action,
                idempotencyKey: "\(action):\(id):\(UUID().uuidString)", now: now)
        }
        try Self.appendAudit(db, action: action, licenseID: id, detail: detail, actor: actor, now: now)
        return license
    }

    public func deleteLicense(id: String, actor: AdminOperator, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE licenses SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                arguments: [Milliseconds.from(now), Milliseconds.from(now), id])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM leases WHERE license_id = ?", arguments: [id])
            try Self.appendAudit(db, action: "license.delete", licenseID: id, detail: nil, actor: actor, now: now)
            return true
        }
    }

    public func devices(licenseID: String) async throws -> [BoundDevice] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM license_devices WHERE license_id = ? ORDER BY bound_at",
                arguments: [licenseID]
            ).map {
                BoundDevice(
                    fingerprint: $0["fingerprint"], boundAt: SQLiteRows.date($0["bound_at"]),
                    lastSeenAt: SQLiteRows.date($0["last_seen_at"]))
            }
        }
    }

    public func resetDevices(licenseID: String, actor: AdminOperator, now: Date) async throws -> Int? {
        try await pool.write { db in
            guard try Self.license(db, id: licenseID) != nil else { return nil }
            try db.execute(sql: "DELETE FROM license_devices WHERE license_id = ?", arguments: [licenseID])
            let removed = db.changesCount
            try Self.appendAudit(
                db, action: "license.reset_devices", licenseID: licenseID, detail: "removed=\(removed)",
                actor: actor, now: now)
            return removed
        }
    }

    public func quota(for license: License, now: Date) async throws -> QuotaSnapshot {
        try await pool.read { db in
            var quota = license.quota(
                usedTodayMs: try Self.usedMs(db, licenseID: license.id, day: UTCDay(containing: now)),
                activeLeases: try Self.activeSessionCount(db, licenseID: license.id, now: now), now: now)
            quota.chat = try Self.chatSnapshot(db, license: license, now: now)
            return quota
        }
    }

    // MARK: Admission and leases

    public func admit(
        _ request: AdmissionRequest, keyHash: String, leaseTTL: TimeInterval, now: Date
    ) async throws -> AdmissionDecision {
        let nowMs = Milliseconds.from(now)
        return try await pool.write { db in
            guard var license = try Self.license(db, keyHash: keyHash) else {
                return .refused(.licenseNotFound, nil)
            }
            // Leases that lapsed free their slot here, without anybody releasing them.
            try db.cachedStatement(sql: "DELETE FROM leases WHERE license_id = ? AND expires_at <= ?")
                .execute(arguments: [license.id, nowMs])
            // Everything else admission needs to know, in one statement.
            let counts = try Row.fetchOne(
                try db.cachedStatement(sql: """
                    SELECT
                        EXISTS(SELECT 1 FROM license_devices WHERE license_id = ?1 AND fingerprint = ?2) AS bound,
                        (SELECT COUNT(*) FROM license_devices WHERE license_id = ?1) AS devices,
                        (SELECT COALESCE(SUM(used_ms), 0) FROM daily_usage WHERE license_id = ?1 AND day = ?3) AS used_today,
                        (\(Self.activeSessionCountSQL(license: "?1", now: "?4"))) AS active
                    """),
                arguments: [license.id, request.deviceFingerprint, UTCDay(containing: now).description, nowMs])
            let deviceIsBound: Bool = counts?["bound"] ?? false
            let facts = AdmissionFacts(
                license: license, clientIP: request.clientIP, deviceIsBound: deviceIsBound,
                boundDeviceCount: counts?["devices"] ?? 0, usedTodayMs: counts?["used_today"] ?? 0,
                activeLeases: counts?["active"] ?? 0)
            if let refusal = AdmissionPolicy.refusal(for: facts, now: now) {
                return .refused(refusal, license)
            }
            try db.cachedStatement(sql: """
                INSERT INTO license_devices (license_id, fingerprint, bound_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)
                ON CONFLICT(license_id, fingerprint) DO UPDATE SET last_seen_at = excluded.last_seen_at
                """).execute(arguments: [license.id, request.deviceFingerprint, nowMs])
            license.expiresAt = AdmissionPolicy.expiry(admitting: license, now: now)
            license.lastUsedAt = now
            try db.cachedStatement(sql: "UPDATE licenses SET last_used_at = ?, expires_at = ? WHERE id = ?")
                .execute(arguments: [nowMs, license.expiresAt.map(Milliseconds.from), license.id])
            let lease = Lease(
                id: Lease.newID(), licenseID: license.id, deviceFingerprint: request.deviceFingerprint,
                holder: request.holder, clientIP: request.clientIP, createdAt: now,
                expiresAt: now.addingTimeInterval(leaseTTL))
            try db.cachedStatement(
                sql: "INSERT INTO leases (id, license_id, device_fingerprint, holder, client_ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ).execute(
                arguments: [
                    lease.id, lease.licenseID, lease.deviceFingerprint, lease.holder, lease.clientIP, nowMs,
                    Milliseconds.from(lease.expiresAt),
                ])
            var quota = license.quota(usedTodayMs: facts.usedTodayMs, activeLeases: facts.activeLeases + 1, now: now)
            quota.chat = try Self.chatSnapshot(db, license: license, now: now)
            return .admitted(lease, quota)
        }
    }

    public func renewLease(id: String, licenseID: String, leaseTTL: TimeInterval, now: Date) async throws -> Lease? {
        let nowMs = Milliseconds.from(now)
        return try await pool.write { db in
            try Row.fetchOne(
                db,
                sql: "UPDATE leases SET expires_at = ? WHERE id = ? AND license_id = ? AND expires_at > ? RETURNING *",
                arguments: [Milliseconds.from(now.addingTimeInterval(leaseTTL)), id, licenseID, nowMs]
            ).map(SQLiteRows.lease)
        }
    }

    public func releaseLease(id: String, licenseID: String) async throws -> Bool {
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM leases WHERE id = ? AND license_id = ?").execute(arguments: [id, licenseID])
            return db.changesCount > 0
        }
    }

    public func activeLeases(licenseID: String?, now: Date) async throws -> [Lease] {
        try await pool.read { db in
            let nowMs = Milliseconds.from(now)
            if let licenseID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM leases WHERE license_id = ? AND expires_at > ? ORDER BY created_at",
                    arguments: [licenseID, nowMs]
                ).map(SQLiteRows.lease)
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM leases WHERE expires_at > ? ORDER BY created_at", arguments: [nowMs]
            ).map(SQLiteRows.lease)
        }
    }

    public func activeLeaseCount(now: Date) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM leases WHERE expires_at > ?", arguments: [Milliseconds.from(now)]) ?? 0
        }
    }

    // MARK: Usage

    public func ledger(licenseID: String) async throws -> [LedgerEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM ledger WHERE license_id = ? ORDER BY seq", arguments: [licenseID])
                .map(SQLiteRows.ledgerEntry)
        }
    }

    public func usage(_ query: UsageQuery) async throws -> UsageReport {
        var conditions = ["l.kind IN ('debit', 'session_start', 'chat_request', 'chat_input_tokens', 'chat_output_tokens')"]
        var arguments: StatementArguments = []
        if let from = query.from {
            conditions.append("l.day >= ?")
            arguments += [from]
        }
        if let to = query.to {
            conditions.append("l.day <= ?")
            arguments += [to]
        }
        if let licenseID = query.licenseID {
            conditions.append("l.license_id = ?")
            arguments += [licenseID]
        }
        let sql = """
            SELECT l.day AS day, l.license_id AS license_id, COALESCE(c.customer_name, '') AS customer_name,
                SUM(CASE WHEN l.kind = 'debit' THEN l.amount_ms ELSE 0 END) AS used_ms,
                SUM(CASE WHEN l.kind = 'session_start' THEN 1 ELSE 0 END) AS sessions_started,
                SUM(CASE WHEN l.kind = 'debit' THEN 1 ELSE 0 END) AS debits,
                SUM(CASE WHEN l.kind = 'chat_request' THEN l.quantity ELSE 0 END) AS chat_requests,
                SUM(CASE WHEN l.kind = 'chat_input_tokens' THEN l.quantity ELSE 0 END) AS chat_input_tokens,
                SUM(CASE WHEN l.kind = 'chat_output_tokens' THEN l.quantity ELSE 0 END) AS chat_output_tokens
            FROM ledger l LEFT JOIN licenses c ON c.id = l.license_id
            WHERE \(conditions.joined(separator: " AND "))
            GROUP BY l.day, l.license_id
            ORDER BY l.day, l.license_id
            """
        let finalArguments = arguments
        return try await pool.read { db in
            UsageReport(rows: try Row.fetchAll(db, sql: sql, arguments: finalArguments).map {
                UsageRow(
                    day: $0["day"], licenseID: $0["license_id"], customerName: $0["customer_name"],
                    usedMs: $0["used_ms"], sessionsStarted: $0["sessions_started"], debits: $0["debits"],
                    chatRequests: $0["chat_requests"], chatInputTokens: $0["chat_input_tokens"],
                    chatOutputTokens: $0["chat_output_tokens"])
            })
        }
    }

    // MARK: Audit

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        var conditions = ["1 = 1"]
        var arguments: StatementArguments = []
        if let licenseID = query.licenseID {
            conditions.append("license_id = ?")
            arguments += [licenseID]
        }
        if let before = query.before {
            conditions.append("seq < ?")
            arguments += [before]
        }
        arguments += [max(1, min(query.limit, 1000))]
        let sql = "SELECT * FROM audit WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT ?"
        let finalArguments = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(SQLiteRows.auditEntry)
        }
    }

    public func appendAudit(action: String, licenseID: String?, detail: String?, actor: AdminOperator, now: Date) async throws {
        try await pool.write { db in
            try Self.appendAudit(db, action: action, licenseID: licenseID, detail: detail, actor: actor, now: now)
        }
    }

    // MARK: Statements shared inside transactions

    static func license(_ db: Database, id: String) throws -> License? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT \(SQLiteRows.licenseColumns) FROM licenses WHERE id = ? AND deleted_at IS NULL"),
            arguments: [id]
        ).map(SQLiteRows.license)
    }

    /// The license whether or not it was deleted, and whether it was: one statement.
    static func licenseIncludingDeleted(_ db: Database, id: String) throws -> (license: License, deleted: Bool)? {
        try Row.fetchOne(
            try db.cachedStatement(
                sql: "SELECT \(SQLiteRows.licenseColumns), deleted_at IS NOT NULL AS deleted FROM licenses WHERE id = ?"),
            arguments: [id]
        ).map { (try SQLiteRows.license($0), $0["deleted"]) }
    }

    static func license(_ db: Database, keyHash: String) throws -> License? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT \(SQLiteRows.licenseColumns) FROM licenses WHERE key_hash = ? AND deleted_at IS NULL"),
            arguments: [keyHash]
        ).map(SQLiteRows.license)
    }

    static func usedMs(_ db: Database, licenseID: String, day: UTCDay) throws -> Int64 {
        try Int64.fetchOne(
            try db.cachedStatement(sql: "SELECT used_ms FROM daily_usage WHERE license_id = ? AND day = ?"),
            arguments: [licenseID, day.description]) ?? 0
    }

    /// Sessions that hold a place under `max_concurrent`: unexpired leases, and live streams
    /// whatever became of their lease (a stream is never released from under itself).
    static func activeSessionCount(_ db: Database, licenseID: String, now: Date) throws -> Int {
        try Int.fetchOne(
            try db.cachedStatement(sql: "SELECT " + Self.activeSessionCountSQL(license: "?1", now: "?2")),
            arguments: [licenseID, Milliseconds.from(now)]) ?? 0
    }

    /// The count as an SQL expression over the given parameter placeholders (license id, now in ms),
    /// so admission's combined statement and the checkpoint share one definition.
    static func activeSessionCountSQL(license: String, now: String) -> String {
        """
        (SELECT COUNT(*) FROM leases WHERE license_id = \(license) AND expires_at > \(now))
        + (SELECT COUNT(*) FROM stream_sessions s WHERE s.license_id = \(license) AND s.status = 'live'
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.id = s.lease_id AND l.expires_at > \(now)))
        """
    }

    static func appendLedger(
        _ db: Database, licenseID: String, sessionID: String?, kind: LedgerEntry.Kind, requestedMs: Int64,
        amountMs: Int64, balanceBefore: Int64, balanceAfter: Int64, reason: String, idempotencyKey: String, now: Date,
        updatingDailyUsage: Bool = true, day chatDay: String? = nil, quantity: Int64? = nil
    ) throws {
        let day = chatDay ?? UTCDay(containing: now).description
        try db.cachedStatement(sql: """
            INSERT INTO ledger (license_id, session_id, kind, requested_ms, amount_ms, balance_before_ms,
                balance_after_ms, reason, idempotency_key, created_at, day, quantity)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                licenseID, sessionID, kind.rawValue, requestedMs, amountMs, balanceBefore, balanceAfter, reason,
                idempotencyKey, Milliseconds.from(now), day, quantity,
            ])
        if kind == .debit, amountMs != 0, updatingDailyUsage {
            try addDailyUsage(db, licenseID: licenseID, day: day, amountMs: amountMs)
        }
    }

    static func addDailyUsage(_ db: Database, licenseID: String, day: String, amountMs: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO daily_usage (license_id, day, used_ms) VALUES (?, ?, ?)
            ON CONFLICT(license_id, day) DO UPDATE SET used_ms = used_ms + excluded.used_ms
            """).execute(arguments: [licenseID, day, amountMs])
    }

    static func appendAudit(
        _ db: Database, action: String, licenseID: String?, detail: String?, actor: AdminOperator, now: Date
    ) throws {
        try db.execute(
            sql: "INSERT INTO audit (at, actor, ip, action, license_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [Milliseconds.from(now), actor.name, actor.ip, action, licenseID, detail])
    }
}
