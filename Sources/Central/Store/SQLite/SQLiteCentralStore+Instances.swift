import Foundation
import GRDB

extension SQLiteCentralStore {
    public func heartbeatInstance(id: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
                    """,
                arguments: [id, Milliseconds.from(now), Milliseconds.from(now)])
        }
    }

    public func removeInstance(id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM instances WHERE id = ?", arguments: [id])
        }
    }

    public func instances() async throws -> [InstanceRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.id, i.started_at, i.heartbeat_at,
                    (SELECT COUNT(*) FROM stream_sessions s WHERE s.owner_instance = i.id AND s.status = 'live') AS live
                FROM instances i ORDER BY i.id
                """).map { row in
                InstanceRecord(
                    id: row["id"], startedAt: Milliseconds.date(row["started_at"]),
                    heartbeatAt: Milliseconds.date(row["heartbeat_at"]), liveSessions: row["live"])
            }
        }
    }

    public func issueStreamTicket(_ ticket: StreamTicket, tokenHash: String, now: Date) async throws {
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM stream_tickets WHERE expires_at <= ?").execute(arguments: [Milliseconds.from(now)])
            try db.cachedStatement(sql: """
                INSERT INTO stream_tickets (token_hash, session_id, license_id, lease_id, device_fingerprint, client_ip,
                    resume, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    tokenHash, ticket.sessionID, ticket.licenseID, ticket.leaseID, ticket.deviceFingerprint, ticket.clientIP,
                    ticket.resume, Milliseconds.from(ticket.expiresAt),
                ])
        }
    }

    public func redeemStreamTicket(tokenHash: String, now: Date) async throws -> StreamTicket? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(
                try db.cachedStatement(sql: "DELETE FROM stream_tickets WHERE token_hash = ? RETURNING *"), arguments: [tokenHash])
            else { return nil }
            let expiresAt = Milliseconds.date(row["expires_at"])
            guard expiresAt > now else { return nil }
            return StreamTicket(
                sessionID: row["session_id"], licenseID: row["license_id"], leaseID: row["lease_id"],
                deviceFingerprint: row["device_fingerprint"], clientIP: row["client_ip"], resume: row["resume"],
                expiresAt: expiresAt)
        }
    }
}
