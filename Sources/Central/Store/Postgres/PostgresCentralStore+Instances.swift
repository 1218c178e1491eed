import Foundation
import PostgresNIO

extension PostgresCentralStore {
    public func heartbeatInstance(id: String, now: Date) async throws {
        let at = Milliseconds.from(now)
        try await autocommit { db in
            try await db.execute("""
                INSERT INTO instances (id, started_at, heartbeat_at) VALUES (\(id), \(at), \(at))
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at
                """)
        }
    }

    public func removeInstance(id: String) async throws {
        try await autocommit { db in
            try await db.execute("DELETE FROM instances WHERE id = \(id)")
        }
    }

    public func instances() async throws -> [InstanceRecord] {
        try await read { db in
            try await db.rows("""
                SELECT i.id, i.started_at, i.heartbeat_at,
                    (SELECT COUNT(*) FROM stream_sessions s WHERE s.owner_instance = i.id AND s.status = 'live') AS live
                FROM instances i ORDER BY i.id COLLATE "C"
                """).map { row in
                InstanceRecord(
                    id: try row["id"], startedAt: try row.date("started_at"), heartbeatAt: try row.date("heartbeat_at"),
                    liveSessions: Int(try row["live", as: Int64.self]))
            }
        }
    }

    public func issueStreamTicket(_ ticket: StreamTicket, tokenHash: String, now: Date) async throws {
        try await autocommit { db in
            // Expired tickets go with the next issue: one statement, no sweeper to run.
            try await db.execute("""
                WITH expired AS (DELETE FROM stream_tickets WHERE expires_at <= \(Milliseconds.from(now)))
                INSERT INTO stream_tickets (token_hash, session_id, license_id, lease_id, device_fingerprint, client_ip,
                    resume, expires_at)
                VALUES (\(tokenHash), \(ticket.sessionID), \(ticket.licenseID), \(ticket.leaseID), \(ticket.deviceFingerprint),
                    \(ticket.clientIP), \(ticket.resume), \(Milliseconds.from(ticket.expiresAt)))
                """)
        }
    }

    public func redeemStreamTicket(tokenHash: String, now: Date) async throws -> StreamTicket? {
        try await autocommit { db in
            guard let row = try await db.first("DELETE FROM stream_tickets WHERE token_hash = \(tokenHash) RETURNING *") else {
                return nil
            }
            let expiresAt = try row.date("expires_at")
            guard expiresAt > now else { return nil }
            return StreamTicket(
                sessionID: try row["session_id"], licenseID: try row["license_id"], leaseID: try row["lease_id"],
                deviceFingerprint: try row["device_fingerprint"], clientIP: try row["client_ip"], resume: try row["resume"],
                expiresAt: expiresAt)
        }
    }
}
