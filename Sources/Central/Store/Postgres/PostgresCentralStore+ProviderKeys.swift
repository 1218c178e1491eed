import Foundation
import PostgresNIO

extension PostgresCentralStore {
    public func insertProviderKey(_ key: ProviderKeyRecord) async throws {
        try await autocommit { db in
            try await db.execute("""
                INSERT INTO provider_keys (id, provider, label, ciphertext, fingerprint, hint, source, status, created_at)
                VALUES (\(key.id), \(key.provider), \(key.label), \(key.ciphertext), \(key.fingerprint), \(key.hint),
                    \(key.source.rawValue), \(key.status.rawValue), \(Milliseconds.from(key.createdAt)))
                """)
        }
    }

    public func providerKeys() async throws -> [ProviderKeyRecord] {
        try await read { db in
            try await db.rows("""
                SELECT * FROM provider_keys ORDER BY provider COLLATE "C", created_at, id COLLATE "C"
                """).map(PostgresRows.providerKey)
        }
    }

    public func setProviderKeyStatus(id: String, status: ProviderKeyRecord.Status) async throws -> Bool {
        try await autocommit { db in
            try await db.execute("UPDATE provider_keys SET status = \(status.rawValue) WHERE id = \(id) RETURNING 1") > 0
        }
    }

    public func deleteProviderKey(id: String) async throws -> Bool {
        try await autocommit { db in
            try await db.execute("DELETE FROM provider_keys WHERE id = \(id) RETURNING 1") > 0
        }
    }

    public func recordProviderKeyOutcome(id: String, outcome: ProviderKeyOutcome, now: Date) async throws {
        let nowMs = Milliseconds.from(now)
        try await autocommit { db in
            switch outcome {
            case .used(let audioMs):
                try await db.execute("""
                    UPDATE provider_keys SET tasks = tasks + 1, audio_ms = audio_ms + \(audioMs), last_used_at = \(nowMs)
                    WHERE id = \(id)
                    """)
            case .authFailed(let message), .rateLimited(let message), .failed(let message):
                let column = switch outcome {
                case .authFailed: "auth_failures"
                case .rateLimited: "rate_limited"
                default: "other_failures"
                }
                try await db.execute("""
                    UPDATE provider_keys SET \(unescaped: column) = \(unescaped: column) + 1,
                        last_error = \(String(message.prefix(500))), last_error_at = \(nowMs)
                    WHERE id = \(id)
                    """)
            }
        }
    }
}
