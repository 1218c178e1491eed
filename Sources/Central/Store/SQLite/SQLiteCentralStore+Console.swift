import Foundation
import GRDB

extension SQLiteCentralStore {
    // MARK: Operators

    public func insertOperator(_ account: OperatorAccount, tokenHash: String, actor: AdminOperator) async throws {
        try await pool.write { db in
            do {
                try db.execute(
                    sql: "INSERT INTO operators (name, role, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        account.name, account.role.rawValue, tokenHash, Milliseconds.from(account.createdAt), account.createdBy,
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
                || error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            {
                throw StoreError.duplicateKey
            }
            try Self.appendAudit(
                db, action: "operator.create", licenseID: nil, detail: "\(account.name) role=\(account.role.rawValue)",
                actor: actor, now: account.createdAt)
        }
    }

    public func operatorAccount(tokenHash: String) async throws -> OperatorAccount? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM operators WHERE token_hash = ? AND disabled_at IS NULL", arguments: [tokenHash]
            ).map(Self.operatorAccount)
        }
    }

    public func operators() async throws -> [OperatorAccount] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM operators ORDER BY name").map(Self.operatorAccount)
        }
    }

    public func disableOperator(name: String, actor: AdminOperator, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE operators SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL",
                arguments: [Milliseconds.from(now), name])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: "DELETE FROM console_sessions WHERE operator_name = ? AND shared_token = 0", arguments: [name])
            try Self.appendAudit(db, action: "operator.disable", licenseID: nil, detail: name, actor: actor, now: now)
            return true
        }
    }

    // MARK: Console sessions

    public func insertConsoleSession(
        _ session: ConsoleSession, capacity: Int, perOperator: Int, idleBefore: Date, createdBefore: Date
    ) async throws -> Bool {
        try await pool.write { db in
            if !session.signedIn.sharedToken {
                // In the insert's transaction: a disable that commits first is seen here.
                let enabled = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM operators WHERE name = ? AND disabled_at IS NULL",
                    arguments: [session.signedIn.name]) ?? false
                guard enabled else { return false }
            }
            try db.execute(
                sql: "DELETE FROM console_sessions WHERE last_seen_at < ? OR created_at < ?",
                arguments: [Milliseconds.from(idleBefore), Milliseconds.from(createdBefore)])
            // Room for the new one: this name's least recently used beyond perOperator, then
            // anyone's beyond capacity.
            try db.execute(
                sql: """
                    DELETE FROM console_sessions WHERE token_hash IN (
                        SELECT token_hash FROM console_sessions WHERE operator_name = ?
                        ORDER BY last_seen_at DESC, token_hash LIMIT -1 OFFSET ?)
                    """,
                arguments: [session.signedIn.name, max(0, perOperator - 1)])
            try db.execute(
                sql: """
                    DELETE FROM console_sessions WHERE token_hash IN (
                        SELECT token_hash FROM console_sessions ORDER BY last_seen_at DESC, token_hash LIMIT -1 OFFSET ?)
                    """,
                arguments: [max(0, capacity - 1)])
            try db.execute(
                sql: """
                    INSERT INTO console_sessions
                        (token_hash, operator_name, role, shared_token, shared_token_tag, created_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session.tokenHash, session.signedIn.name, session.signedIn.role.rawValue, session.signedIn.sharedToken,
                    session.sharedTokenTag, Milliseconds.from(session.createdAt), Milliseconds.from(session.lastSeenAt),
                ])
            return true
        }
    }

    public func consoleSession(tokenHash: String) async throws -> ConsoleSession? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM console_sessions WHERE token_hash = ?", arguments: [tokenHash])
                .map(Self.consoleSession)
        }
    }

    public func touchConsoleSession(tokenHash: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE console_sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE token_hash = ?",
                arguments: [Milliseconds.from(at), tokenHash])
        }
    }

    public func deleteConsoleSession(tokenHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE token_hash = ?", arguments: [tokenHash])
        }
    }

    static func consoleSession(_ row: Row) throws -> ConsoleSession {
        guard let role = OperatorRole(rawValue: row["role"]) else { throw StoreError.corruptRow("console session role") }
        return ConsoleSession(
            tokenHash: row["token_hash"],
            signedIn: AuthenticatedOperator(name: row["operator_name"], role: role, sharedToken: row["shared_token"]),
            createdAt: SQLiteRows.date(row["created_at"]), lastSeenAt: SQLiteRows.date(row["last_seen_at"]),
            sharedTokenTag: row["shared_token_tag"])
    }

    static func operatorAccount(_ row: Row) throws -> OperatorAccount {
        guard let role = OperatorRole(rawValue: row["role"]) else { throw StoreError.corruptRow("operator role") }
        return OperatorAccount(
            name: row["name"], role: role, createdAt: SQLiteRows.date(row["created_at"]), createdBy: row["created_by"],
            disabledAt: (row["disabled_at"] as Int64?).map(SQLiteRows.date))
    }

    // MARK: Minutes requests

    public func createMinutesRequest(_ request: MinutesRequest, limits: MinutesRequestLimits, now: Date) async throws
        -> MinutesRequest
    {
        try await pool.write { db in
            if let pending = try Row.fetchOne(
                db, sql: "SELECT * FROM minutes_requests WHERE license_id = ? AND status = 'pending'",
                arguments: [request.licenseID])
            {
                throw MinutesRequestRefusal.pending(try Self.minutesRequest(pending))
            }
            let window = MinutesRequestWindow(now: now)
            let recent = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM minutes_requests WHERE license_id = ? AND created_at >= ?",
                arguments: [request.licenseID, Milliseconds.from(window.start)]) ?? 0
            if recent >= limits.perDay { throw MinutesRequestRefusal.dailyLimit(retryAfterSeconds: window.secondsLeft) }
            try db.execute(
                sql: "INSERT INTO minutes_requests (id, license_id, minutes, note, status, created_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                arguments: [request.id, request.licenseID, request.minutes, request.note, Milliseconds.from(request.createdAt)])
            return request
        }
    }

    public func minutesRequests(status: MinutesRequest.Status?, licenseID: String?, limit: Int) async throws -> [MinutesRequest] {
        var conditions = ["1 = 1"]
        var arguments: StatementArguments = []
        if let status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        if let licenseID {
            conditions.append("license_id = ?")
            arguments += [licenseID]
        }
        arguments += [max(1, min(limit, 1000))]
        let sql = "SELECT * FROM minutes_requests WHERE \(conditions.joined(separator: " AND ")) ORDER BY created_at DESC, id DESC LIMIT ?"
        let finalArguments = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.minutesRequest)
        }
    }

    public func minutesRequest(id: String) async throws -> MinutesRequest? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM minutes_requests WHERE id = ?", arguments: [id]).map(Self.minutesRequest)
        }
    }

    public func decideMinutesRequest(id: String, _ decision: MinutesRequestDecision, actor: AdminOperator, now: Date) async throws
        -> MinutesRequest?
    {
        try await pool.write { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT * FROM minutes_requests WHERE id = ? AND status = 'pending'", arguments: [id])
            else { return nil }
            var request = try Self.minutesRequest(row)
            request.apply(decision, by: actor.name, at: now)
            if case .approve(let minutes, _) = decision {
                guard try Self.modifyLicense(
                    db, id: request.licenseID, action: "license.topup", detail: "minutes=\(minutes.formatted()) request=\(id)",
                    actor: actor, now: now, { $0.limitMs += Milliseconds.fromMinutes(minutes) }) != nil
                else { throw AdministrationError.licenseNotFound(request.licenseID) }
            }
            try db.execute(
                sql: "UPDATE minutes_requests SET status = ?, decided_at = ?, decided_by = ?, granted_minutes = ?, answer = ? WHERE id = ?",
                arguments: [
                    request.status.rawValue, Milliseconds.from(now), actor.name, request.grantedMinutes, request.answer, id,
                ])
            try Self.appendAudit(
                db, action: "minutes_request.\(request.status.rawValue)", licenseID: request.licenseID, detail: id,
                actor: actor, now: now)
            return request
        }
    }

    static func minutesRequest(_ row: Row) throws -> MinutesRequest {
        guard let status = MinutesRequest.Status(rawValue: row["status"]) else {
            throw StoreError.corruptRow("minutes request status")
        }
        return MinutesRequest(
            id: row["id"], licenseID: row["license_id"], minutes: row["minutes"], note: row["note"], status: status,
            createdAt: SQLiteRows.date(row["created_at"]), decidedAt: (row["decided_at"] as Int64?).map(SQLiteRows.date),
            decidedBy: row["decided_by"], grantedMinutes: row["granted_minutes"], answer: row["answer"])
    }

    // MARK: Webhooks

    public func insertWebhookEndpoint(_ endpoint: WebhookEndpoint, actor: AdminOperator) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO webhook_endpoints (id, url, secret, events, enabled, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    endpoint.id, endpoint.url, endpoint.storedSecret, WebhookEventType.columnText(endpoint.events), endpoint.enabled,
                    endpoint.description, Milliseconds.from(endpoint.createdAt),
                ])
            try Self.appendAudit(
                db, action: "webhook.create", licenseID: nil, detail: endpoint.id, actor: actor, now: endpoint.createdAt)
        }
    }

    public func webhookEndpoints() async throws -> [WebhookEndpoint] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_endpoints ORDER BY created_at, id").map(Self.webhookEndpoint)
        }
    }

    public func updateWebhookEndpoint(
        id: String, enabled: Bool?, events: Set<WebhookEventType>?, description: String?, actor: AdminOperator, now: Date
    ) async throws -> WebhookEndpoint? {
        try await pool.write { db in
            guard var endpoint = try Row.fetchOne(db, sql: "SELECT * FROM webhook_endpoints WHERE id = ?", arguments: [id])
                .map(Self.webhookEndpoint)
            else { return nil }
            endpoint.enabled = enabled ?? endpoint.enabled
            endpoint.events = events ?? endpoint.events
            endpoint.description = description ?? endpoint.description
            try db.execute(
                sql: "UPDATE webhook_endpoints SET enabled = ?, events = ?, description = ? WHERE id = ?",
                arguments: [endpoint.enabled, WebhookEventType.columnText(endpoint.events), endpoint.description, id])
            try Self.appendAudit(db, action: "webhook.update", licenseID: nil, detail: id, actor: actor, now: now)
            return endpoint
        }
    }

    public func deleteWebhookEndpoint(id: String, actor: AdminOperator, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM webhook_endpoints WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            // Its log goes with it; the events stay (they are shared by every endpoint).
            try db.execute(sql: "DELETE FROM webhook_deliveries WHERE endpoint_id = ?", arguments: [id])
            try Self.appendAudit(db, action: "webhook.delete", licenseID: nil, detail: id, actor: actor, now: now)
            return true
        }
    }

    public func replaceWebhookSecret(id: String, from old: String, to new: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE webhook_endpoints SET secret = ? WHERE id = ? AND secret = ?", arguments: [new, id, old])
            return db.changesCount > 0
        }
    }

    public func enqueueWebhookEvent(_ event: WebhookEvent) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO webhook_events (id, type, license_id, payload, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                arguments: [event.id, event.type.rawValue, event.licenseID, event.payload, Milliseconds.from(event.createdAt)])
            guard db.changesCount > 0 else { return false }
            let at = Milliseconds.from(event.createdAt)
            for endpoint in try Row.fetchAll(db, sql: "SELECT * FROM webhook_endpoints WHERE enabled = 1").map(Self.webhookEndpoint)
            where endpoint.subscribes(to: event.type) {
                try db.execute(
                    sql: "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, created_at, next_attempt_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)",
                    arguments: [WebhookDelivery.newID(), event.id, endpoint.id, at, at])
            }
            return true
        }
    }

    public func claimDueWebhookDeliveries(now: Date, claimUntil: Date, limit: Int) async throws -> [DueWebhookDelivery] {
        try await pool.write { db in
            let rows = try Row.fetchAll(
                db, sql: """
                    SELECT d.*, e.type AS event_type, e.payload, w.url, w.secret FROM webhook_deliveries d
                    JOIN webhook_events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
                    WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?
                    """,
                arguments: [Milliseconds.from(now), limit])
            return try rows.map { row in
                try db.execute(
                    sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?",
                    arguments: [Milliseconds.from(claimUntil), row["id"] as String])
                return DueWebhookDelivery(
                    delivery: try Self.webhookDelivery(row), url: row["url"], storedSecret: row["secret"], payload: row["payload"])
            }
        }
    }

    public func recordWebhookAttempt(
        id: String, at: Date, delivered: Bool, status: Int?, error: String?, nextAttemptAt: Date?
    ) async throws {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_attempt_at = ?, last_status = ?,
                        last_error = ?, next_attempt_at = ?, delivered_at = ? WHERE id = ?
                    """,
                arguments: [
                    state, Milliseconds.from(at), status, error, nextAttemptAt.map(Milliseconds.from),
                    delivered ? Milliseconds.from(at) : nil, id,
                ])
        }
    }

    public func webhookDeliveries(endpointID: String?, limit: Int) async throws -> [WebhookDelivery] {
        let filter = endpointID == nil ? "" : "WHERE d.endpoint_id = ?"
        let arguments: StatementArguments = endpointID.map { [$0, max(1, min(limit, 1000))] } ?? [max(1, min(limit, 1000))]
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                    \(filter) ORDER BY d.created_at DESC, d.id DESC LIMIT ?
                    """, arguments: arguments
            ).map(Self.webhookDelivery)
        }
    }

    public func redeliverWebhook(id: String, actor: AdminOperator, now: Date) async throws -> WebhookDelivery? {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?
                    WHERE id = ? AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled)
                    """,
                arguments: [Milliseconds.from(now), id])
            guard db.changesCount > 0 else { return nil }
            try Self.appendAudit(db, action: "webhook.redeliver", licenseID: nil, detail: id, actor: actor, now: now)
            return try Row.fetchOne(
                db, sql: "SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ?",
                arguments: [id]
            ).map(Self.webhookDelivery)
        }
    }

    static func webhookEndpoint(_ row: Row) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: row["id"], url: row["url"], storedSecret: row["secret"], events: try WebhookEventType.set(columnText: row["events"]),
            enabled: row["enabled"], description: row["description"], createdAt: SQLiteRows.date(row["created_at"]))
    }

    static func webhookDelivery(_ row: Row) throws -> WebhookDelivery {
        guard let status = WebhookDelivery.Status(rawValue: row["status"]),
              let type = WebhookEventType(rawValue: row["event_type"])
        else { throw StoreError.corruptRow("webhook delivery") }
        return WebhookDelivery(
            id: row["id"], eventID: row["event_id"], eventType: type, endpointID: row["endpoint_id"], status: status,
            attempts: row["attempts"], createdAt: SQLiteRows.date(row["created_at"]),
            nextAttemptAt: (row["next_attempt_at"] as Int64?).map(SQLiteRows.date),
            lastAttemptAt: (row["last_attempt_at"] as Int64?).map(SQLiteRows.date), lastStatus: row["last_status"],
            lastError: row["last_error"], deliveredAt: (row["delivered_at"] as Int64?).map(SQLiteRows.date))
    }
}
