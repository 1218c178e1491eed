import Foundation
import Logging
import PostgresNIO

/// Versioned schema for the PostgreSQL store, recorded in `schema_migrations`. Migrations are
/// append-only: never edit a shipped one. They run under a session-level advisory lock, so
/// instances starting together apply each migration once and the others wait, then see it done.
///
/// The first version is the SQLite store's schema as it stands after its own sixth migration
/// (same tables, columns and meaning; milliseconds since 1970 in BIGINT, days as UTC
/// `YYYY-MM-DD` text), so `central store copy` maps rows one to one.
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let name: String
        /// One statement per element: the extended query protocol takes one command at a time.
        let statements: [String]
    }

    /// `pg_advisory_lock` key: any fixed 64-bit number other software on the database is unlikely to use.
    static let advisoryLockKey: Int64 = 0x5350_4544_4745_0001

    static var latestVersion: Int { all.last?.version ?? 0 }

    static let all: [Migration] = [
        Migration(version: 1, name: "v1_schema", statements: [
            """
            CREATE TABLE plans (
                name TEXT PRIMARY KEY,
                validity_days INTEGER NOT NULL CHECK (validity_days >= 0),
                minutes DOUBLE PRECISION NOT NULL CHECK (minutes >= 0),
                session_limit INTEGER CHECK (session_limit >= 0),
                max_concurrent INTEGER NOT NULL CHECK (max_concurrent >= 0),
                max_devices INTEGER NOT NULL CHECK (max_devices >= 0),
                daily_minutes DOUBLE PRECISION CHECK (daily_minutes >= 0),
                description TEXT NOT NULL DEFAULT '',
                updated_at BIGINT NOT NULL,
                provider TEXT
            )
            """,
            """
            CREATE TABLE licenses (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                key_hash TEXT NOT NULL UNIQUE,
                key_prefix TEXT NOT NULL,
                customer_name TEXT NOT NULL,
                customer_email TEXT,
                plan TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT,
                starts_at BIGINT NOT NULL,
                expires_at BIGINT,
                validity_days INTEGER NOT NULL,
                expiry_from_first_use BOOLEAN NOT NULL,
                limit_ms BIGINT NOT NULL CHECK (limit_ms >= 0),
                used_ms BIGINT NOT NULL DEFAULT 0 CHECK (used_ms >= 0),
                session_limit INTEGER CHECK (session_limit >= 0),
                sessions_used INTEGER NOT NULL DEFAULT 0,
                daily_cap_ms BIGINT CHECK (daily_cap_ms >= 0),
                max_concurrent INTEGER NOT NULL CHECK (max_concurrent >= 0),
                max_devices INTEGER NOT NULL CHECK (max_devices >= 0),
                ip_allowlist TEXT NOT NULL DEFAULT '[]',
                notes TEXT NOT NULL DEFAULT '',
                last_used_at BIGINT,
                provider TEXT
            )
            """,
            "CREATE INDEX licenses_status ON licenses(status)",
            "CREATE INDEX licenses_plan ON licenses(plan)",
            """
            CREATE TABLE license_devices (
                license_id TEXT NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
                fingerprint TEXT NOT NULL,
                bound_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                PRIMARY KEY (license_id, fingerprint)
            )
            """,
            """
            CREATE TABLE leases (
                id TEXT PRIMARY KEY,
                license_id TEXT NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
                device_fingerprint TEXT NOT NULL,
                holder TEXT,
                client_ip TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX leases_license_expiry ON leases(license_id, expires_at)",
            "CREATE INDEX leases_expiry ON leases(expires_at)",
            """
            CREATE TABLE ledger (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                license_id TEXT NOT NULL,
                session_id TEXT,
                kind TEXT NOT NULL CHECK (kind IN ('debit', 'credit', 'session_start')),
                requested_ms BIGINT NOT NULL,
                amount_ms BIGINT NOT NULL,
                balance_before_ms BIGINT NOT NULL,
                balance_after_ms BIGINT NOT NULL,
                reason TEXT NOT NULL,
                idempotency_key TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                day TEXT NOT NULL
            )
            """,
            "CREATE INDEX ledger_license_day ON ledger(license_id, day, kind)",
            "CREATE INDEX ledger_day ON ledger(day)",
            """
            CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'ledger is append-only'; END $$
            """,
            """
            CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
                FOR EACH ROW EXECUTE FUNCTION ledger_append_only()
            """,
            """
            CREATE TABLE audit (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                ip TEXT,
                action TEXT NOT NULL,
                license_id TEXT,
                detail TEXT
            )
            """,
            "CREATE INDEX audit_license ON audit(license_id, seq)",
            """
            CREATE TABLE stream_sessions (
                id TEXT PRIMARY KEY,
                license_id TEXT NOT NULL,
                lease_id TEXT NOT NULL,
                device_fingerprint TEXT NOT NULL,
                client_ip TEXT NOT NULL,
                provider TEXT NOT NULL,
                source_language TEXT NOT NULL,
                target_language TEXT,
                status TEXT NOT NULL CHECK (status IN ('live', 'closed')),
                started_at BIGINT NOT NULL,
                first_audio_at BIGINT,
                last_checkpoint_at BIGINT,
                billed_ms BIGINT NOT NULL DEFAULT 0,
                last_sequence BIGINT NOT NULL DEFAULT -1,
                ended_at BIGINT,
                stop_reason TEXT,
                provider_audio_ms BIGINT,
                provider_reported_seconds BIGINT,
                reserved_ms BIGINT NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX stream_sessions_live ON stream_sessions(status, license_id)",
            "CREATE INDEX stream_sessions_lease ON stream_sessions(lease_id)",
            // A per-day counter beside the ledger, so daily caps cost one row read however long
            // the day's ledger grows. The ledger stays the source of truth for reports.
            """
            CREATE TABLE daily_usage (
                license_id TEXT NOT NULL,
                day TEXT NOT NULL,
                used_ms BIGINT NOT NULL,
                PRIMARY KEY (license_id, day)
            )
            """,
            // Secrets only as AES-GCM ciphertext; the master key never touches the database.
            """
            CREATE TABLE provider_keys (
                id TEXT PRIMARY KEY,
                provider TEXT NOT NULL,
                label TEXT,
                ciphertext BYTEA NOT NULL,
                fingerprint TEXT NOT NULL,
                hint TEXT NOT NULL,
                source TEXT NOT NULL CHECK (source IN ('env', 'file', 'admin')),
                status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                created_at BIGINT NOT NULL,
                tasks BIGINT NOT NULL DEFAULT 0,
                audio_ms BIGINT NOT NULL DEFAULT 0,
                auth_failures BIGINT NOT NULL DEFAULT 0,
                rate_limited BIGINT NOT NULL DEFAULT 0,
                other_failures BIGINT NOT NULL DEFAULT 0,
                last_used_at BIGINT,
                last_error TEXT,
                last_error_at BIGINT,
                UNIQUE (provider, fingerprint)
            )
            """,
        ] + Plan.defaults.map(seedStatement)),
        // The SQLite store's v7_instances: instances, session owners, stop requests, stream tickets.
        Migration(version: 2, name: "v2_instances", statements: [
            "ALTER TABLE stream_sessions ADD COLUMN owner_instance TEXT",
            "ALTER TABLE stream_sessions ADD COLUMN stop_requested TEXT",
            "CREATE INDEX stream_sessions_owner ON stream_sessions(owner_instance) WHERE status = 'live'",
            "CREATE TABLE instances (id TEXT PRIMARY KEY, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)",
            """
            CREATE TABLE stream_tickets (
                token_hash TEXT PRIMARY KEY,
                session_id TEXT NOT NULL,
                license_id TEXT NOT NULL,
                lease_id TEXT NOT NULL,
                device_fingerprint TEXT NOT NULL,
                client_ip TEXT NOT NULL,
                resume BOOLEAN NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX stream_tickets_expiry ON stream_tickets(expires_at)",
        ]),
        Migration(version: 3, name: "v3_reconciliation", statements: [
            "ALTER TABLE stream_sessions ADD COLUMN translation_tokens BIGINT",
            "ALTER TABLE stream_sessions ADD COLUMN edge_sent_ms BIGINT",
            "ALTER TABLE stream_sessions ADD COLUMN provider_reported_tokens BIGINT",
        ]),
        // The chat proxy (see the SQLite store's v9_chat): chat quotas, chat requests, and ledger
        // kinds for chat usage with a quantity.
        Migration(version: 4, name: "v4_chat", statements: [
            "ALTER TABLE plans ADD COLUMN chat_quota TEXT",
            "ALTER TABLE licenses ADD COLUMN chat_quota TEXT",
            "ALTER TABLE ledger ADD COLUMN quantity BIGINT",
            "ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check",
            """
            ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check CHECK (kind IN ('debit', 'credit', 'session_start',
                'chat_request', 'chat_input_tokens', 'chat_output_tokens'))
            """,
            """
            CREATE TABLE chat_requests (
                id TEXT PRIMARY KEY,
                license_id TEXT NOT NULL,
                day TEXT NOT NULL,
                model TEXT NOT NULL,
                upstream TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('reserved', 'settled', 'released')),
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                reserved_tokens BIGINT NOT NULL,
                input_tokens BIGINT,
                output_tokens BIGINT,
                usage_source TEXT,
                settled_at BIGINT
            )
            """,
            "CREATE INDEX chat_requests_license_day ON chat_requests(license_id, day)",
            "CREATE INDEX chat_requests_license_created ON chat_requests(license_id, created_at)",
        ]),
        // The operator's console (see the SQLite store's v10_console).
        Migration(version: 5, name: "v5_console", statements: [
            """
            CREATE TABLE operators (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                token_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                disabled_at BIGINT
            )
            """,
            """
            CREATE TABLE minutes_requests (
                id TEXT PRIMARY KEY,
                license_id TEXT NOT NULL,
                minutes DOUBLE PRECISION NOT NULL,
                note TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
                created_at BIGINT NOT NULL,
                decided_at BIGINT,
                decided_by TEXT,
                granted_minutes DOUBLE PRECISION,
                answer TEXT
            )
            """,
            "CREATE INDEX minutes_requests_license ON minutes_requests(license_id, created_at)",
            "CREATE INDEX minutes_requests_status ON minutes_requests(status, created_at)",
            "CREATE UNIQUE INDEX minutes_requests_one_pending ON minutes_requests(license_id) WHERE status = 'pending'",
            """
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                secret TEXT NOT NULL,
                events TEXT NOT NULL,
                enabled BOOLEAN NOT NULL,
                description TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                license_id TEXT,
                payload TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                event_id TEXT NOT NULL,
                endpoint_id TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                next_attempt_at BIGINT,
                last_attempt_at BIGINT,
                last_status INTEGER,
                last_error TEXT,
                delivered_at BIGINT,
                UNIQUE (event_id, endpoint_id)
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at)",
            "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at)",
        ]),
        // Console sessions shared by every instance (see the SQLite store's v11_console_sessions).
        Migration(version: 6, name: "v6_console_sessions", statements: [
            """
            CREATE TABLE console_sessions (
                token_hash TEXT PRIMARY KEY,
                operator_name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                shared_token BOOLEAN NOT NULL,
                shared_token_tag TEXT,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX console_sessions_operator ON console_sessions(operator_name)",
            "CREATE INDEX console_sessions_last_seen ON console_sessions(last_seen_at)",
        ]),
    ]

    /// A default plan as an INSERT with literals (a migration's statements carry no bindings).
    private static func seedStatement(_ plan: Plan) -> String {
        func text(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }
        func number<N>(_ value: N?) -> String { value.map { "\($0)" } ?? "NULL" }
        return """
            INSERT INTO plans (name, validity_days, minutes, session_limit, max_concurrent, max_devices,
                daily_minutes, description, updated_at, provider)
            VALUES (\(text(plan.name)), \(plan.validityDays), \(plan.minutes), \(number(plan.sessionLimit)),
                \(plan.maxConcurrent), \(plan.maxDevices), \(number(plan.dailyMinutes)), \(text(plan.description)), 0,
                \(plan.provider.map(text) ?? "NULL"))
            """
    }

    /// Applies every pending migration, each in its own transaction, holding the advisory lock
    /// for the whole run. Returns the versions it applied (empty when another instance had).
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            let session = PostgresTransaction(connection: connection, logger: logger)
            try await session.execute("SELECT pg_advisory_lock(\(advisoryLockKey))")
            do {
                let applied = try await apply(session)
                try await session.execute("SELECT pg_advisory_unlock(\(advisoryLockKey))")
                return applied
            } catch {
                // The lock is the session's: give it back before the connection returns to the pool.
                _ = try? await session.execute("SELECT pg_advisory_unlock(\(advisoryLockKey))")
                throw error
            }
        }
    }

    private static func apply(_ session: PostgresTransaction) async throws -> [Int] {
        try await session.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """)
        let done = Set(try await session.rows("SELECT version FROM schema_migrations").map { try $0["version", as: Int.self] })
        var applied: [Int] = []
        for migration in all where !done.contains(migration.version) {
            try await session.execute("BEGIN")
            do {
                for statement in migration.statements {
                    try await session.execute(PostgresQuery(unsafeSQL: statement))
                }
                let now = Milliseconds.from(Date())
                try await session.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(now))")
                try await session.execute("COMMIT")
            } catch {
                _ = try? await session.execute("ROLLBACK")
                throw error
            }
            session.logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    /// The highest applied version; nil when the table does not exist yet.
    static func appliedVersion(_ session: PostgresTransaction) async throws -> Int? {
        let exists = try await session.first("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try exists?["present", as: Bool.self] == true else { return nil }
        return try await session.first("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")?["version", as: Int.self]
    }
}
