import Foundation
import Logging
import PostgresNIO
import Protocol

/// The shared store: PostgreSQL through postgres-nio's `PostgresClient`, for several central
/// instances on one database.
///
/// Every write is one READ COMMITTED transaction. What two instances could otherwise both
/// decide on (a license's concurrency slots, devices, balance and reservations) is serialised by
/// locking the license row first (`SELECT … FOR UPDATE`); transactions that lock several
/// licenses lock them in id order, so they cannot deadlock. The rules stay in
/// `AdmissionPolicy` and `MeteringPolicy`: this store reads facts, asks, and writes the answer,
/// exactly as `SQLiteCentralStore` does.
///
/// The client must be running (`client.run()`, a ServiceLifecycle service) for any call to
/// return; `migrate()` applies the schema before first use.
public final class PostgresCentralStore: CentralStore {
    let client: PostgresClient
    let logger: Logger
    /// How long a call waits for a pooled connection while no call gets an answer, before it
    /// fails with `StoreError.notReady` (503 `unavailable` on the API): the pool would wait for
    /// as long as the server is away.
    let connectionWait: PostgresConnectionWait

    public init(client: PostgresClient, logger: Logger, connectionWait: Duration = .seconds(10)) {
        self.client = client
        self.logger = logger
        self.connectionWait = PostgresConnectionWait(timeout: connectionWait)
    }

    /// Applies pending migrations under the advisory lock; returns the versions this call applied.
    /// Fails after `timeout` rather than wait for an unreachable or misconfigured database forever.
    @discardableResult
    public func migrate(timeout: Duration = .seconds(60)) async throws -> [Int] {
        try await PostgresDeadline.run(within: timeout, "migrations") { [client, logger] in
            try await PostgresMigrations.migrate(client, logger: logger)
        }
    }

    /// Answers within 5 s, so `/readyz` fails while the database is unreachable instead of hanging.
    public func checkReady() async throws {
        let version = try await PostgresDeadline.run(within: .seconds(5), "readiness") {
            try await self.read { db in try await PostgresMigrations.appliedVersion(db) }
        }
        guard let version, version >= PostgresMigrations.latestVersion else {
            throw StoreError.notReady("migrations pending")
        }
    }

    // MARK: Plans

    public func plans() async throws -> [Plan] {
        try await read { db in
            try await db.rows("SELECT * FROM plans ORDER BY name COLLATE \"C\"").map(PostgresRows.plan)
        }
    }

    public func plan(named name: String) async throws -> Plan? {
        try await read { db in
            try await db.first("SELECT * FROM plans WHERE name = \(name)").map(PostgresRows.plan)
        }
    }

    public func savePlan(_ plan: Plan, actor: AdminOperator, now: Date) async throws {
        try await write { db in
            try await PostgresRows.upsert(plan, db, now: Milliseconds.from(now))
            try await Self.appendAudit(db, action: "plan.save", licenseID: nil, detail: plan.name, actor: actor, now: now)
        }
    }

    // MARK: Licenses

    public func insertLicense(_ license: License, keyHash: String, actor: AdminOperator) async throws {
        try await write { db in
            do {
                try await db.execute("""
                    INSERT INTO licenses (id, key_hash, key_prefix, customer_name, plan, status, created_at, updated_at,
                        starts_at, validity_days, expiry_from_first_use, limit_ms, max_concurrent, max_devices)
                    VALUES (\(license.id), \(keyHash), \(license.keyPrefix), \(license.customerName), \(license.plan),
                        \(license.status.rawValue), \(Milliseconds.from(license.createdAt)),
                        \(Milliseconds.from(license.updatedAt)), \(Milliseconds.from(license.startsAt)),
                        \(license.validityDays), \(license.expiryFromFirstUse), \(license.limitMs),
                        \(license.maxConcurrent), \(license.maxDevices))
                    """)
            } catch let error as PSQLError where PostgresErrors.isUniqueViolation(error) {
                throw StoreError.duplicateKey
            }
            try await PostgresRows.update(license, db)
            try await Self.appendAudit(
                db, action: "license.create", licenseID: license.id,
                detail: "plan=\(license.plan) prefix=\(license.keyPrefix)", actor: actor, now: license.createdAt)
        }
    }

    public func license(id: String) async throws -> License? {
        try await read { db in try await Self.license(db, id: id) }
    }

    public func license(keyHash: String) async throws -> License? {
        try await read { db in try await Self.license(db, keyHash: keyHash) }
    }

    public func listLicenses(_ filter: LicenseFilter) async throws -> LicensePage {
        var sql = PostgresQueryBuilder()
        var conditions = ["deleted_at IS NULL"]
        if let cursor = filter.cursor {
            guard let seq = Int64(cursor) else { throw StoreError.invalidCursor }
            conditions.append("seq < \(sql.bind(seq))")
        }
        if let status = filter.status {
            conditions.append("status = \(sql.bind(status.rawValue))")
        }
        if let plan = filter.plan {
            conditions.append("plan = \(sql.bind(plan))")
        }
        if let query = filter.query, !query.isEmpty {
            // ILIKE: SQLite's LIKE, which the embedded store uses, ignores case too.
            let pattern = sql.bind("%" + query.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%")
            conditions.append(
                "(id ILIKE \(pattern) OR key_prefix ILIKE \(pattern) OR customer_name ILIKE \(pattern) OR customer_email ILIKE \(pattern) OR notes ILIKE \(pattern))"
            )
        }
        let limit = max(1, min(filter.limit, 500))
        let limitPlaceholder = sql.bind(limit + 1)
        let query = sql.query("""
            SELECT seq, \(PostgresRows.licenseColumns) FROM licenses WHERE \(conditions.joined(separator: " AND "))
            ORDER BY seq DESC LIMIT \(limitPlaceholder)
            """)
        return try await read { db in
            let rows = try await db.rows(query)
            let page = rows.prefix(limit)
            let next: String? = rows.count > limit ? try page.last.map { String(try $0["seq", as: Int64.self]) } : nil
            return LicensePage(licenses: try page.map(PostgresRows.license), nextCursor: next)
        }
    }

    public func modifyLicense(
        id: String, action: String, detail: String?, actor: AdminOperator, now: Date,
        _ change: @Sendable (inout License) throws -> Void
    ) async throws -> License? {
        // The body runs while this call waits for it, never after: it does not really escape.
        try await withoutActuallyEscaping(change) { change in try await write { db in
            try await Self.modifyLicense(db, id: id, action: action, detail: detail, actor: actor, now: now, change)
        } }
    }

    /// `modifyLicense` inside a caller's transaction (a minutes request's approval tops up in its own).
    static func modifyLicense(
        _ db: PostgresTransaction, id: String, action: String, detail: String?, actor: AdminOperator, now: Date,
        _ change: (inout License) throws -> Void
    ) async throws -> License? {
        guard var license = try await Self.license(db, id: id, forUpdate: true) else { return nil }
        let before = license
        try change(&license)
        license.updatedAt = now
        try await PostgresRows.update(license, db)
        if license.limitMs != before.limitMs {
            try await Self.appendLedger(
                db, licenseID: id, sessionID: nil, kind: .credit, requestedMs: license.limitMs - before.limitMs,
                amountMs: license.limitMs - before.limitMs, balanceBefore: before.remainingMs,
                balanceAfter: license.remainingMs, reason: action,
                idempotencyKey: "\(action):\(id):\(UUID().uuidString)", now: now)
        }
        try await Self.appendAudit(db, action: action, licenseID: id, detail: detail, actor: actor, now: now)
        return license
    }

    public func deleteLicense(id: String, actor: AdminOperator, now: Date) async throws -> Bool {
        let nowMs = Milliseconds.from(now)
        return try await write { db in
            let changed = try await db.execute("""
                UPDATE licenses SET deleted_at = \(nowMs), updated_at = \(nowMs)
                WHERE id = \(id) AND deleted_at IS NULL RETURNING 1
                """)
            guard changed > 0 else { return false }
            try await db.execute("DELETE FROM leases WHERE license_id = \(id)")
            try await Self.appendAudit(db, action: "license.delete", licenseID: id, detail: nil, actor: actor, now: now)
            return true
        }
    }

    public func devices(licenseID: String) async throws -> [BoundDevice] {
        try await read { db in
            try await db.rows("""
                SELECT * FROM license_devices WHERE license_id = \(licenseID) ORDER BY bound_at, fingerprint COLLATE "C"
                """).map {
                BoundDevice(fingerprint: try $0["fingerprint"], boundAt: try $0.date("bound_at"), lastSeenAt: try $0.date("last_seen_at"))
            }
        }
    }

    public func resetDevices(licenseID: String, actor: AdminOperator, now: Date) async throws -> Int? {
        try await write { db in
            // Locked like admission locks it, so a racing admission binds before or after, never half.
            guard try await Self.license(db, id: licenseID, forUpdate: true) != nil else { return nil }
            let removed = try await db.execute("DELETE FROM license_devices WHERE license_id = \(licenseID) RETURNING 1")
            try await Self.appendAudit(
                db, action: "license.reset_devices", licenseID: licenseID, detail: "removed=\(removed)",
                actor: actor, now: now)
            return removed
        }
    }

    public func quota(for license: License, now: Date) async throws -> QuotaSnapshot {
        try await read { db in
            var quota = license.quota(
                usedTodayMs: try await Self.usedMs(db, licenseID: license.id, day: UTCDay(containing: now)),
                activeLeases: try await Self.activeSessionCount(db, licenseID: license.id, now: now), now: now)
            quota.chat = try await Self.chatSnapshot(db, license: license, now: now)
            return quota
        }
    }

    // MARK: Admission and leases

    public func admit(
        _ request: AdmissionRequest, keyHash: String, leaseTTL: TimeInterval, now: Date
    ) async throws -> AdmissionDecision {
        let nowMs = Milliseconds.from(now)
        return try await write { db in
            // The license row's lock serialises every admission (and checkpoint) of this license,
            // on every instance: the counts below cannot change until this transaction ends.
            guard var license = try await Self.license(db, keyHash: keyHash, forUpdate: true) else {
                return .refused(.licenseNotFound, nil)
            }
            // Everything else admission needs to know, in one statement; leases that lapsed are
            // deleted by the same statement (they free their slot without anybody releasing
            // them, and are not counted: the count reads only unexpired leases).
            let day = UTCDay(containing: now).description
            let counts = try await db.first(PostgresQuery(unsafeSQL: """
                WITH lapsed AS (DELETE FROM leases WHERE license_id = $1 AND expires_at <= $2 RETURNING 1)
                SELECT
                    EXISTS(SELECT 1 FROM license_devices WHERE license_id = $1 AND fingerprint = $3) AS bound,
                    (SELECT COUNT(*) FROM license_devices WHERE license_id = $1) AS devices,
                    (SELECT COALESCE(SUM(used_ms), 0)::BIGINT FROM daily_usage WHERE license_id = $1 AND day = $4) AS used_today,
                    (\(Self.activeSessionCountSQL)) AS active
                """, binds: Self.bindings(license.id, nowMs, request.deviceFingerprint, day)))
            let facts = AdmissionFacts(
                license: license, clientIP: request.clientIP, deviceIsBound: try counts?["bound"] ?? false,
                boundDeviceCount: try counts?["devices"] ?? 0, usedTodayMs: try counts?["used_today"] ?? 0,
                activeLeases: try counts?["active"] ?? 0)
            if let refusal = AdmissionPolicy.refusal(for: facts, now: now) {
                return .refused(refusal, license)
            }
            license.expiresAt = AdmissionPolicy.expiry(admitting: license, now: now)
            license.lastUsedAt = now
            let lease = Lease(
                id: Lease.newID(), licenseID: license.id, deviceFingerprint: request.deviceFingerprint,
                holder: request.holder, clientIP: request.clientIP, createdAt: now,
                expiresAt: now.addingTimeInterval(leaseTTL))
            // The device binding, the license's last use and expiry, and the lease: one statement.
            try await db.execute("""
                WITH device AS (
                    INSERT INTO license_devices (license_id, fingerprint, bound_at, last_seen_at)
                    VALUES (\(license.id), \(request.deviceFingerprint), \(nowMs), \(nowMs))
                    ON CONFLICT (license_id, fingerprint) DO UPDATE SET last_seen_at = excluded.last_seen_at
                    RETURNING 1
                ), used AS (
                    UPDATE licenses SET last_used_at = \(nowMs), expires_at = \(license.expiresAt.map(Milliseconds.from))
                    WHERE id = \(license.id) RETURNING 1
                )
                INSERT INTO leases (id, license_id, device_fingerprint, holder, client_ip, created_at, expires_at)
                VALUES (\(lease.id), \(lease.licenseID), \(lease.deviceFingerprint), \(lease.holder), \(lease.clientIP),
                    \(nowMs), \(Milliseconds.from(lease.expiresAt)))
                """)
            var quota = license.quota(usedTodayMs: facts.usedTodayMs, activeLeases: facts.activeLeases + 1, now: now)
            quota.chat = try await Self.chatSnapshot(db, license: license, now: now)
            return .admitted(lease, quota)
        }
    }

    public func renewLease(id: String, licenseID: String, leaseTTL: TimeInterval, now: Date) async throws -> Lease? {
        let nowMs = Milliseconds.from(now), expiresMs = Milliseconds.from(now.addingTimeInterval(leaseTTL))
        return try await autocommit { db in
            try await db.first("""
                UPDATE leases SET expires_at = \(expiresMs)
                WHERE id = \(id) AND license_id = \(licenseID) AND expires_at > \(nowMs) RETURNING *
                """).map(PostgresRows.lease)
        }
    }

    public func releaseLease(id: String, licenseID: String) async throws -> Bool {
        try await autocommit { db in
            try await db.execute("DELETE FROM leases WHERE id = \(id) AND license_id = \(licenseID) RETURNING 1") > 0
        }
    }

    public func activeLeases(licenseID: String?, now: Date) async throws -> [Lease] {
        let nowMs = Milliseconds.from(now)
        return try await read { db in
            if let licenseID {
                return try await db.rows("""
                    SELECT * FROM leases WHERE license_id = \(licenseID) AND expires_at > \(nowMs) ORDER BY created_at, id COLLATE "C"
                    """).map(PostgresRows.lease)
            }
            return try await db.rows("""
                SELECT * FROM leases WHERE expires_at > \(nowMs) ORDER BY created_at, id COLLATE "C"
                """).map(PostgresRows.lease)
        }
    }

    public func activeLeaseCount(now: Date) async throws -> Int {
        let nowMs = Milliseconds.from(now)
        return try await read { db in
            try await db.first("SELECT COUNT(*) AS n FROM leases WHERE expires_at > \(nowMs)")?["n"] ?? 0
        }
    }

    // MARK: Usage

    public func ledger(licenseID: String) async throws -> [LedgerEntry] {
        try await read { db in
            try await db.rows("SELECT * FROM ledger WHERE license_id = \(licenseID) ORDER BY seq").map(PostgresRows.ledgerEntry)
        }
    }

    public func usage(_ query: UsageQuery) async throws -> UsageReport {
        var sql = PostgresQueryBuilder()
        var conditions = ["l.kind IN ('debit', 'session_start', 'chat_request', 'chat_input_tokens', 'chat_output_tokens')"]
        if let from = query.from { conditions.append("l.day >= \(sql.bind(from))") }
        if let to = query.to { conditions.append("l.day <= \(sql.bind(to))") }
        if let licenseID = query.licenseID { conditions.append("l.license_id = \(sql.bind(licenseID))") }
        // Days are `YYYY-MM-DD` and ids ASCII: the "C" collation orders them as SQLite does.
        let statement = sql.query("""
            SELECT l.day AS day, l.license_id AS license_id, COALESCE(MAX(c.customer_name), '') AS customer_name,
                SUM(CASE WHEN l.kind = 'debit' THEN l.amount_ms ELSE 0 END)::BIGINT AS used_ms,
                SUM(CASE WHEN l.kind = 'session_start' THEN 1 ELSE 0 END)::BIGINT AS sessions_started,
                SUM(CASE WHEN l.kind = 'debit' THEN 1 ELSE 0 END)::BIGINT AS debits,
                SUM(CASE WHEN l.kind = 'chat_request' THEN l.quantity ELSE 0 END)::BIGINT AS chat_requests,
                SUM(CASE WHEN l.kind = 'chat_input_tokens' THEN l.quantity ELSE 0 END)::BIGINT AS chat_input_tokens,
                SUM(CASE WHEN l.kind = 'chat_output_tokens' THEN l.quantity ELSE 0 END)::BIGINT AS chat_output_tokens
            FROM ledger l LEFT JOIN licenses c ON c.id = l.license_id
            WHERE \(conditions.joined(separator: " AND "))
            GROUP BY l.day, l.license_id
            ORDER BY l.day COLLATE "C", l.license_id COLLATE "C"
            """)
        return try await read { db in
            UsageReport(rows: try await db.rows(statement).map {
                UsageRow(
                    day: try $0["day"], licenseID: try $0["license_id"], customerName: try $0["customer_name"],
                    usedMs: try $0["used_ms"], sessionsStarted: try $0["sessions_started"], debits: try $0["debits"],
                    chatRequests: try $0["chat_requests"], chatInputTokens: try $0["chat_input_tokens"],
                    chatOutputTokens: try $0["chat_output_tokens"])
            })
        }
    }

    // MARK: Audit

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        var sql = PostgresQueryBuilder()
        var conditions = ["TRUE"]
        if let licenseID = query.licenseID { conditions.append("license_id = \(sql.bind(licenseID))") }
        if let before = query.before { conditions.append("seq < \(sql.bind(before))") }
        let limit = sql.bind(max(1, min(query.limit, 1000)))
        let statement = sql.query("""
            SELECT * FROM audit WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT \(limit)
            """)
        return try await read { db in try await db.rows(statement).map(PostgresRows.auditEntry) }
    }

    public func appendAudit(action: String, licenseID: String?, detail: String?, actor: AdminOperator, now: Date) async throws {
        try await autocommit { db in
            try await Self.appendAudit(db, action: action, licenseID: licenseID, detail: detail, actor: actor, now: now)
        }
    }

    // MARK: Connections and transactions

    /// Statements on one pooled connection, outside a transaction (each sees the latest commit).
    func read<Result: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) async throws -> Result) async throws -> Result {
        try await connectionWait.withConnection(client) { [logger] connection in
            try await body(PostgresTransaction(connection: connection, logger: logger))
        }
    }

    /// A single statement that changes data, committed on its own (PostgreSQL makes a lone
    /// statement atomic): a heartbeat or a release without BEGIN and COMMIT round trips.
    @discardableResult
    func autocommit<Result: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) async throws -> Result) async throws -> Result {
        try await read(body)
    }

    /// One transaction; retried from the start when PostgreSQL aborted it to break a deadlock or
    /// a serialisation conflict (the lock order should prevent both; this keeps a surprise from
    /// becoming an error on a billing path).
    @discardableResult
    func write<Result: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) async throws -> Result) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await connectionWait.withConnection(client) { [logger] connection in
                    let db = PostgresTransaction(connection: connection, logger: logger)
                    try await db.execute("BEGIN")
                    do {
                        let result = try await body(db)
                        try await db.execute("COMMIT")
                        return result
                    } catch {
                        _ = try? await db.execute("ROLLBACK")
                        throw error
                    }
                }
            } catch let error as PSQLError where PostgresErrors.isRetryable(error) && attempt < 5 {
                attempt += 1
                logger.notice("retrying a transaction", metadata: ["sqlstate": "\(PostgresErrors.sqlState(error) ?? "?")"])
            }
        }
    }

    // MARK: Statements shared inside transactions

    /// The license (not deleted); with `forUpdate`, its row stays locked until the transaction ends.
    static func license(_ db: PostgresTransaction, id: String, forUpdate: Bool = false) async throws -> License? {
        try await db.first(PostgresQuery(
            unsafeSQL: "SELECT \(PostgresRows.licenseColumns) FROM licenses WHERE id = $1 AND deleted_at IS NULL\(forUpdate ? " FOR UPDATE" : "")",
            binds: bindings(id))).map(PostgresRows.license)
    }

    static func license(_ db: PostgresTransaction, keyHash: String, forUpdate: Bool = false) async throws -> License? {
        try await db.first(PostgresQuery(
            unsafeSQL: "SELECT \(PostgresRows.licenseColumns) FROM licenses WHERE key_hash = $1 AND deleted_at IS NULL\(forUpdate ? " FOR UPDATE" : "")",
            binds: bindings(keyHash))).map(PostgresRows.license)
    }

    /// Locks these licenses' rows, deleted or not, in id order (every multi-license locker uses
    /// this order, so two batches cannot deadlock), and returns each with whether it was deleted.
    static func lockLicenses(_ db: PostgresTransaction, ids: [String]) async throws -> [String: (license: License, deleted: Bool)] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await db.rows("""
            SELECT \(unescaped: PostgresRows.licenseColumns), deleted_at IS NOT NULL AS deleted FROM licenses
            WHERE id = ANY(\(ids)) ORDER BY id COLLATE "C" FOR UPDATE
            """)
        var licenses: [String: (license: License, deleted: Bool)] = [:]
        for row in rows {
            let license = try PostgresRows.license(row)
            licenses[license.id] = (license, try row["deleted"])
        }
        return licenses
    }

    static func usedMs(_ db: PostgresTransaction, licenseID: String, day: UTCDay) async throws -> Int64 {
        try await db.first("SELECT used_ms FROM daily_usage WHERE license_id = \(licenseID) AND day = \(day.description)")?["used_ms"] ?? 0
    }

    /// Sessions that hold a place under `max_concurrent`: unexpired leases, and live streams
    /// whatever became of their lease (a stream is never released from under itself).
    static func activeSessionCount(_ db: PostgresTransaction, licenseID: String, now: Date) async throws -> Int {
        try await db.first(PostgresQuery(
            unsafeSQL: "SELECT \(activeSessionCountSQL) AS active", binds: bindings(licenseID, Milliseconds.from(now))
        ))?["active"] ?? 0
    }

    /// The count over `$1` (license id) and `$2` (now in ms).
    static let activeSessionCountSQL = activeSessionCountSQL(license: "$1", now: "$2")

    /// The count as an SQL expression over the given license id and now (ms) expressions, so
    /// admission's combined statement and the checkpoint share one definition.
    static func activeSessionCountSQL(license: String, now: String) -> String {
        """
        (SELECT COUNT(*) FROM leases WHERE license_id = \(license) AND expires_at > \(now))
        + (SELECT COUNT(*) FROM stream_sessions s WHERE s.license_id = \(license) AND s.status = 'live'
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.id = s.lease_id AND l.expires_at > \(now)))
        """
    }

    static func bindings(_ id: String, _ nowMs: Int64? = nil, _ more: String...) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(id)
        if let nowMs { bindings.append(nowMs) }
        for value in more { bindings.append(value) }
        return bindings
    }

    static func appendLedger(
        _ db: PostgresTransaction, licenseID: String, sessionID: String?, kind: LedgerEntry.Kind, requestedMs: Int64,
        amountMs: Int64, balanceBefore: Int64, balanceAfter: Int64, reason: String, idempotencyKey: String, now: Date,
        updatingDailyUsage: Bool = true, day chatDay: String? = nil, quantity: Int64? = nil
    ) async throws {
        let day = chatDay ?? UTCDay(containing: now).description
        try await db.execute("""
            INSERT INTO ledger (license_id, session_id, kind, requested_ms, amount_ms, balance_before_ms,
                balance_after_ms, reason, idempotency_key, created_at, day, quantity)
            VALUES (\(licenseID), \(sessionID), \(kind.rawValue), \(requestedMs), \(amountMs), \(balanceBefore),
                \(balanceAfter), \(reason), \(idempotencyKey), \(Milliseconds.from(now)), \(day), \(quantity))
            """)
        if kind == .debit, amountMs != 0, updatingDailyUsage {
            try await addDailyUsage(db, licenseID: licenseID, day: day, amountMs: amountMs)
        }
    }

    static func addDailyUsage(_ db: PostgresTransaction, licenseID: String, day: String, amountMs: Int64) async throws {
        try await db.execute("""
            INSERT INTO daily_usage (license_id, day, used_ms) VALUES (\(licenseID), \(day), \(amountMs))
            ON CONFLICT (license_id, day) DO UPDATE SET used_ms = daily_usage.used_ms + excluded.used_ms
            """)
    }

    static func appendAudit(
        _ db: PostgresTransaction, action: String, licenseID: String?, detail: String?, actor: AdminOperator, now: Date
    ) async throws {
        try await db.execute("""
            INSERT INTO audit (at, actor, ip, action, license_id, detail)
            VALUES (\(Milliseconds.from(now)), \(actor.name), \(actor.ip), \(action), \(licenseID), \(detail))
            """)
    }
}
