import Foundation
import PostgresNIO

extension PostgresCentralStore {
    // MARK: Operators

    public func insertOperator(_ account: OperatorAccount, tokenHash: String, actor: AdminOperator) async throws {
        try await write { db in
            do {
                try await db.execute("""
                    INSERT INTO operators (name, role, token_hash, created_at, created_by)
                    VALUES (\(account.name), \(account.role.rawValue), \(tokenHash), \(Milliseconds.from(account.createdAt)),
                        \(account.createdBy))
                    """)
            } catch let error as PSQLError where PostgresErrors.isUniqueViolation(error) {
                throw StoreError.duplicateKey
            }
            try await Self.appendAudit(
                db, action: "operator.create", licenseID: nil, detail: "\(account.name) role=\(account.role.rawValue)",
                actor: actor, now: account.createdAt)
        }
    }

    public func operatorAccount(tokenHash: String) async throws -> OperatorAccount? {
        try await read { db in
            try await db.first("SELECT * FROM operators WHERE token_hash = \(tokenHash) AND disabled_at IS NULL")
                .map(Self.operatorAccount)
        }
    }

    public func operators() async throws -> [OperatorAccount] {
        try await read { db in
            try await db.rows("SELECT * FROM operators ORDER BY name COLLATE \"C\"").map(Self.operatorAccount)
        }
    }

    public func disableOperator(name: String, actor: AdminOperator, now: Date) async throws -> Bool {
        try await write { db in
            let changed = try await db.execute(
                "UPDATE operators SET disabled_at = \(Milliseconds.from(now)) WHERE name = \(name) AND disabled_at IS NULL RETURNING 1")
            guard changed > 0 else { return false }
            try await db.execute("DELETE FROM console_sessions WHERE operator_name = \(name) AND NOT shared_token")
            try await Self.appendAudit(db, action: "operator.disable", licenseID: nil, detail: name, actor: actor, now: now)
            return true
        }
    }

    // MARK: Console sessions

    public func insertConsoleSession(
        _ session: ConsoleSession, capacity: Int, perOperator: Int, idleBefore: Date, createdBefore: Date
    ) async throws -> Bool {
        try await write { db in
            if !session.signedIn.sharedToken {
                // FOR SHARE: a disable (an UPDATE of this row) waits for this insert to commit and
                // then deletes the session, or commits first and this finds no enabled operator.
                guard try await db.first("""
                    SELECT 1 AS one FROM operators WHERE name = \(session.signedIn.name) AND disabled_at IS NULL FOR SHARE
                    """) != nil
                else { return false }
            }
            try await db.execute("""
                DELETE FROM console_sessions
                WHERE last_seen_at < \(Milliseconds.from(idleBefore)) OR created_at < \(Milliseconds.from(createdBefore))
                """)
            // Room for the new one: this name's least recently used beyond perOperator, then
            // anyone's beyond capacity.
            try await db.execute("""
                DELETE FROM console_sessions WHERE token_hash IN (
                    SELECT token_hash FROM console_sessions WHERE operator_name = \(session.signedIn.name)
                    ORDER BY last_seen_at DESC, token_hash COLLATE "C" OFFSET \(max(0, perOperator - 1)))
                """)
            try await db.execute("""
                DELETE FROM console_sessions WHERE token_hash IN (
                    SELECT token_hash FROM console_sessions ORDER BY last_seen_at DESC, token_hash COLLATE "C"
                    OFFSET \(max(0, capacity - 1)))
                """)
            try await db.execute("""
                INSERT INTO console_sessions
                    (token_hash, operator_name, role, shared_token, shared_token_tag, created_at, last_seen_at)
                VALUES (\(session.tokenHash), \(session.signedIn.name), \(session.signedIn.role.rawValue),
                    \(session.signedIn.sharedToken), \(session.sharedTokenTag), \(Milliseconds.from(session.createdAt)),
                    \(Milliseconds.from(session.lastSeenAt)))
                """)
            return true
        }
    }

    public func consoleSession(tokenHash: String) async throws -> ConsoleSession? {
        try await read { db in
            try await db.first("SELECT * FROM console_sessions WHERE token_hash = \(tokenHash)").map(Self.consoleSession)
        }
    }

    public func touchConsoleSession(tokenHash: String, at: Date) async throws {
        try await write { db in
            try await db.execute("""
                UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, \(Milliseconds.from(at)))
                WHERE token_hash = \(tokenHash)
                """)
        }
    }

    public func deleteConsoleSession(tokenHash: String) async throws {
        try await write { db in
            try await db.execute("DELETE FROM console_sessions WHERE token_hash = \(tokenHash)")
        }
    }

    static func consoleSession(_ row: PostgresRowReader) throws -> ConsoleSession {
        guard let role = OperatorRole(rawValue: try row["role"]) else { throw StoreError.corruptRow("console session role") }
        return ConsoleSession(
            tokenHash: try row["token_hash"],
            signedIn: AuthenticatedOperator(name: try row["operator_name"], role: role, sharedToken: try row["shared_token"]),
            createdAt: try row.date("created_at"), lastSeenAt: try row.date("last_seen_at"),
            sharedTokenTag: try row["shared_token_tag", as: String?.self])
    }

    static func operatorAccount(_ row: PostgresRowReader) throws -> OperatorAccount {
        guard let role = OperatorRole(rawValue: try row["role"]) else { throw StoreError.corruptRow("operator role") }
        return OperatorAccount(
            name: try row["name"], role: role, createdAt: try row.date("created_at"), createdBy: try row["created_by"],
            disabledAt: try row.optionalDate("disabled_at"))
    }

    // MARK: Minutes requests

    public func createMinutesRequest(_ request: MinutesRequest, limits: MinutesRequestLimits, now: Date) async throws
        -> MinutesRequest
    {
        try await write { db in
            // The license row's lock serialises a license's requests across instances.
            guard try await Self.license(db, id: request.licenseID, forUpdate: true) != nil else {
                throw AdministrationError.licenseNotFound(request.licenseID)
            }
            if let pending = try await db.first(
                "SELECT * FROM minutes_requests WHERE license_id = \(request.licenseID) AND status = 'pending'")
            {
                throw MinutesRequestRefusal.pending(try Self.minutesRequest(pending))
            }
            let window = MinutesRequestWindow(now: now)
            let recent = try await db.first("""
                SELECT COUNT(*) AS n FROM minutes_requests
                WHERE license_id = \(request.licenseID) AND created_at >= \(Milliseconds.from(window.start))
                """).map { try $0["n", as: Int64.self] } ?? 0
            if recent >= limits.perDay { throw MinutesRequestRefusal.dailyLimit(retryAfterSeconds: window.secondsLeft) }
            try await db.execute("""
                INSERT INTO minutes_requests (id, license_id, minutes, note, status, created_at)
                VALUES (\(request.id), \(request.licenseID), \(request.minutes), \(request.note), 'pending',
                    \(Milliseconds.from(request.createdAt)))
                """)
            return request
        }
    }

    public func minutesRequests(status: MinutesRequest.Status?, licenseID: String?, limit: Int) async throws -> [MinutesRequest] {
        var sql = PostgresQueryBuilder()
        var conditions = ["TRUE"]
        if let status { conditions.append("status = \(sql.bind(status.rawValue))") }
        if let licenseID { conditions.append("license_id = \(sql.bind(licenseID))") }
        // Bound before `query` is called: the builder is a value, copied when its method is.
        let limitPlaceholder = sql.bind(max(1, min(limit, 1000)))
        let query = sql.query("""
            SELECT * FROM minutes_requests WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT \(limitPlaceholder)
            """)
        return try await read { db in try await db.rows(query).map(Self.minutesRequest) }
    }

    public func minutesRequest(id: String) async throws -> MinutesRequest? {
        try await read { db in
            try await db.first("SELECT * FROM minutes_requests WHERE id = \(id)").map(Self.minutesRequest)
        }
    }

    public func decideMinutesRequest(id: String, _ decision: MinutesRequestDecision, actor: AdminOperator, now: Date) async throws
        -> MinutesRequest?
    {
        try await write { db in
            guard let row = try await db.first("SELECT * FROM minutes_requests WHERE id = \(id) AND status = 'pending' FOR UPDATE")
            else { return nil }
            var request = try Self.minutesRequest(row)
            request.apply(decision, by: actor.name, at: now)
            if case .approve(let minutes, _) = decision {
                guard try await Self.modifyLicense(
                    db, id: request.licenseID, action: "license.topup", detail: "minutes=\(minutes.formatted()) request=\(id)",
                    actor: actor, now: now, { $0.limitMs += Milliseconds.fromMinutes(minutes) }) != nil
                else { throw AdministrationError.licenseNotFound(request.licenseID) }
            }
            try await db.execute("""
                UPDATE minutes_requests SET status = \(request.status.rawValue), decided_at = \(Milliseconds.from(now)),
                    decided_by = \(actor.name), granted_minutes = \(request.grantedMinutes), answer = \(request.answer)
                WHERE id = \(id)
                """)
            try await Self.appendAudit(
                db, action: "minutes_request.\(request.status.rawValue)", licenseID: request.licenseID, detail: id,
                actor: actor, now: now)
            return request
        }
    }

    static func minutesRequest(_ row: PostgresRowReader) throws -> MinutesRequest {
        guard let status = MinutesRequest.Status(rawValue: try row["status"]) else {
            throw StoreError.corruptRow("minutes request status")
        }
        return MinutesRequest(
            id: try row["id"], licenseID: try row["license_id"], minutes: try row["minutes"], note: try row["note"],
            status: status, createdAt: try row.date("created_at"), decidedAt: try row.optionalDate("decided_at"),
            decidedBy: try row["decided_by"], grantedMinutes: try row["granted_minutes"], answer: try row["answer"])
    }

    // MARK: Webhooks

    public func insertWebhookEndpoint(_ endpoint: WebhookEndpoint, actor: AdminOperator) async throws {
        try await write { db in
            try await db.execute("""
                INSERT INTO webhook_endpoints (id, url, secret, events, enabled, description, created_at)
                VALUES (\(endpoint.id), \(endpoint.url), \(endpoint.storedSecret), \(WebhookEventType.columnText(endpoint.events)),
                    \(endpoint.enabled), \(endpoint.description), \(Milliseconds.from(endpoint.createdAt)))
                """)
            try await Self.appendAudit(
                db, action: "webhook.create", licenseID: nil, detail: endpoint.id, actor: actor, now: endpoint.createdAt)
        }
    }

    public func webhookEndpoints() async throws -> [WebhookEndpoint] {
        try await read { db in
            try await db.rows("SELECT * FROM webhook_endpoints ORDER BY created_at, id").map(Self.webhookEndpoint)
        }
    }

    public func updateWebhookEndpoint(
        id: String, enabled: Bool?, events: Set<WebhookEventType>?, description: String?, actor: AdminOperator, now: Date
    ) async throws -> WebhookEndpoint? {
        try await write { db in
            guard var endpoint = try await db.first("SELECT * FROM webhook_endpoints WHERE id = \(id) FOR UPDATE")
                .map(Self.webhookEndpoint)
            else { return nil }
            endpoint.enabled = enabled ?? endpoint.enabled
            endpoint.events = events ?? endpoint.events
            endpoint.description = description ?? endpoint.description
            try await db.execute("""
                UPDATE webhook_endpoints SET enabled = \(endpoint.enabled),
                    events = \(WebhookEventType.columnText(endpoint.events)), description = \(endpoint.description)
                WHERE id = \(id)
                """)
            try await Self.appendAudit(db, action: "webhook.update", licenseID: nil, detail: id, actor: actor, now: now)
            return endpoint
        }
    }

    public func deleteWebhookEndpoint(id: String, actor: AdminOperator, now: Date) async throws -> Bool {
        try await write { db in
            guard try await db.execute("DELETE FROM webhook_endpoints WHERE id = \(id) RETURNING 1") > 0 else { return false }
            try await db.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = \(id)")
            try await Self.appendAudit(db, action: "webhook.delete", licenseID: nil, detail: id, actor: actor, now: now)
            return true
        }
    }

    public func replaceWebhookSecret(id: String, from old: String, to new: String) async throws -> Bool {
        try await write { db in
            try await db.execute(
                "UPDATE webhook_endpoints SET secret = \(new) WHERE id = \(id) AND secret = \(old) RETURNING 1") > 0
        }
    }

    public func enqueueWebhookEvent(_ event: WebhookEvent) async throws -> Bool {
        try await write { db in
            let at = Milliseconds.from(event.createdAt)
            let inserted = try await db.execute("""
                INSERT INTO webhook_events (id, type, license_id, payload, created_at)
                VALUES (\(event.id), \(event.type.rawValue), \(event.licenseID), \(event.payload), \(at))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """)
            guard inserted > 0 else { return false }
            for endpoint in try await db.rows("SELECT * FROM webhook_endpoints WHERE enabled").map(Self.webhookEndpoint)
            where endpoint.subscribes(to: event.type) {
                try await db.execute("""
                    INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, created_at, next_attempt_at)
                    VALUES (\(WebhookDelivery.newID()), \(event.id), \(endpoint.id), 'pending', 0, \(at), \(at))
                    """)
            }
            return true
        }
    }

    public func claimDueWebhookDeliveries(now: Date, claimUntil: Date, limit: Int) async throws -> [DueWebhookDelivery] {
        try await write { db in
            // SKIP LOCKED: two instances claiming at once take different deliveries.
            let rows = try await db.rows("""
                WITH due AS (
                    SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
                    WHERE d.status = 'pending' AND d.next_attempt_at <= \(Milliseconds.from(now))
                    ORDER BY d.next_attempt_at LIMIT \(limit) FOR UPDATE OF d SKIP LOCKED
                ), claimed AS (
                    UPDATE webhook_deliveries d SET next_attempt_at = \(Milliseconds.from(claimUntil))
                    FROM due WHERE d.id = due.id RETURNING d.*
                )
                SELECT c.*, e.type AS event_type, e.payload, w.url, w.secret FROM claimed c
                JOIN webhook_events e ON e.id = c.event_id JOIN webhook_endpoints w ON w.id = c.endpoint_id
                """)
            return try rows.map { row in
                DueWebhookDelivery(
                    delivery: try Self.webhookDelivery(row), url: try row["url"], storedSecret: try row["secret"],
                    payload: try row["payload"])
            }
        }
    }

    public func recordWebhookAttempt(
        id: String, at: Date, delivered: Bool, status: Int?, error: String?, nextAttemptAt: Date?
    ) async throws {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        let atMs = Milliseconds.from(at)
        let deliveredAt: Int64? = delivered ? atMs : nil
        let next = nextAttemptAt.map(Milliseconds.from)
        let statusCode = status.map(Int32.init)
        try await autocommit { db in
            try await db.execute("""
                UPDATE webhook_deliveries SET status = \(state), attempts = attempts + 1, last_attempt_at = \(atMs),
                    last_status = \(statusCode), last_error = \(error), next_attempt_at = \(next), delivered_at = \(deliveredAt)
                WHERE id = \(id)
                """)
        }
    }

    public func webhookDeliveries(endpointID: String?, limit: Int) async throws -> [WebhookDelivery] {
        var sql = PostgresQueryBuilder()
        let filter = endpointID.map { "WHERE d.endpoint_id = \(sql.bind($0))" } ?? ""
        let limitPlaceholder = sql.bind(max(1, min(limit, 1000)))
        let query = sql.query("""
            SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
            \(filter) ORDER BY d.created_at DESC, d.id DESC LIMIT \(limitPlaceholder)
            """)
        return try await read { db in try await db.rows(query).map(Self.webhookDelivery) }
    }

    public func redeliverWebhook(id: String, actor: AdminOperator, now: Date) async throws -> WebhookDelivery? {
        try await write { db in
            guard try await db.execute("""
                UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(Milliseconds.from(now))
                WHERE id = \(id) AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled) RETURNING 1
                """) > 0
            else { return nil }
            try await Self.appendAudit(db, action: "webhook.redeliver", licenseID: nil, detail: id, actor: actor, now: now)
            return try await db.first("""
                SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
                WHERE d.id = \(id)
                """).map(Self.webhookDelivery)
        }
    }

    static func webhookEndpoint(_ row: PostgresRowReader) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: try row["id"], url: try row["url"], storedSecret: try row["secret"],
            events: try WebhookEventType.set(columnText: try row["events"]), enabled: try row["enabled"],
            description: try row["description"], createdAt: try row.date("created_at"))
    }

    static func webhookDelivery(_ row: PostgresRowReader) throws -> WebhookDelivery {
        guard let status = WebhookDelivery.Status(rawValue: try row["status"]),
              let type = WebhookEventType(rawValue: try row["event_type"])
        else { throw StoreError.corruptRow("webhook delivery") }
        return WebhookDelivery(
            id: try row["id"], eventID: try row["event_id"], eventType: type, endpointID: try row["endpoint_id"],
            status: status, attempts: Int(try row["attempts", as: Int32.self]), createdAt: try row.date("created_at"),
            nextAttemptAt: try row.optionalDate("next_attempt_at"), lastAttemptAt: try row.optionalDate("last_attempt_at"),
            lastStatus: try row["last_status", as: Int32?.self].map(Int.init), lastError: try row["last_error"],
            deliveredAt: try row.optionalDate("delivered_at"))
    }
}
