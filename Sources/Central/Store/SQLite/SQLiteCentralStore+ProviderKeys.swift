import Foundation
import GRDB

extension SQLiteCentralStore {
    public func insertProviderKey(_ key: ProviderKeyRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO provider_keys (id, provider, label, ciphertext, fingerprint, hint, source, status, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.id, key.provider, key.label, key.ciphertext, key.fingerprint, key.hint, key.source.rawValue,
                    key.status.rawValue, Milliseconds.from(key.createdAt),
                ])
        }
    }

    public func providerKeys() async throws -> [ProviderKeyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM provider_keys ORDER BY provider, created_at, id").map(Self.providerKey)
        }
    }

    public func setProviderKeyStatus(id: String, status: ProviderKeyRecord.Status) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE provider_keys SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
            return db.changesCount > 0
        }
    }

    public func deleteProviderKey(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM provider_keys WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func recordProviderKeyOutcome(id: String, outcome: ProviderKeyOutcome, now: Date) async throws {
        let nowMs = Milliseconds.from(now)
        try await pool.write { db in
            switch outcome {
            case .used(let audioMs):
                try db.execute(
                    sql: "UPDATE provider_keys SET tasks = tasks + 1, audio_ms = audio_ms + ?, last_used_at = ? WHERE id = ?",
                    arguments: [audioMs, nowMs, id])
            case .authFailed(let message), .rateLimited(let message), .failed(let message):
                let column = switch outcome {
                case .authFailed: "auth_failures"
                case .rateLimited: "rate_limited"
                default: "other_failures"
                }
                try db.execute(
                    sql: "UPDATE provider_keys SET \(column) = \(column) + 1, last_error = ?, last_error_at = ? WHERE id = ?",
                    arguments: [String(message.prefix(500)), nowMs, id])
            }
        }
    }

    public func recordProviderUsage(sessionID: String, usage: ProviderUsage) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE stream_sessions SET provider_audio_ms = COALESCE(provider_audio_ms, 0) + ?,
                        provider_reported_seconds = CASE WHEN ? IS NULL THEN provider_reported_seconds
                            ELSE COALESCE(provider_reported_seconds, 0) + ? END,
                        translation_tokens = CASE WHEN ? IS NULL THEN translation_tokens
                            ELSE COALESCE(translation_tokens, 0) + ? END,
                        provider_reported_tokens = CASE WHEN ? IS NULL THEN provider_reported_tokens
                            ELSE COALESCE(provider_reported_tokens, 0) + ? END,
                        edge_sent_ms = COALESCE(?, edge_sent_ms)
                    WHERE id = ?
                    """,
                arguments: [
                    usage.audioMs, usage.reportedSeconds, usage.reportedSeconds, usage.translationTokens, usage.translationTokens,
                    usage.reportedTokens, usage.reportedTokens, usage.edgeSentMs, sessionID,
                ])
        }
    }

    static func providerKey(_ row: Row) throws -> ProviderKeyRecord {
        guard let source = ProviderKeyRecord.Source(rawValue: row["source"]),
              let status = ProviderKeyRecord.Status(rawValue: row["status"])
        else { throw StoreError.corruptRow("provider key \(row["id"] as String? ?? "?")") }
        var stats = ProviderKeyStats()
        stats.tasks = row["tasks"]
        stats.audioMs = row["audio_ms"]
        stats.authFailures = row["auth_failures"]
        stats.rateLimited = row["rate_limited"]
        stats.otherFailures = row["other_failures"]
        stats.lastUsedAt = (row["last_used_at"] as Int64?).map(Milliseconds.date)
        stats.lastError = row["last_error"]
        stats.lastErrorAt = (row["last_error_at"] as Int64?).map(Milliseconds.date)
        return ProviderKeyRecord(
            id: row["id"], provider: row["provider"], label: row["label"], ciphertext: row["ciphertext"],
            fingerprint: row["fingerprint"], hint: row["hint"], source: source, status: status,
            createdAt: Milliseconds.date(row["created_at"]), stats: stats)
    }
}
