import GRDB

/// Versioned schema for the SQLite store. Migrations are append-only: never edit a shipped one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_licenses_leases_ledger") { db in
            try db.execute(sql: """
                CREATE TABLE plans (
                    name TEXT PRIMARY KEY,
                    validity_days INTEGER NOT NULL CHECK (validity_days >= 0),
                    minutes REAL NOT NULL CHECK (minutes >= 0),
                    session_limit INTEGER CHECK (session_limit >= 0),
                    max_concurrent INTEGER NOT NULL CHECK (max_concurrent >= 0),
                    max_devices INTEGER NOT NULL CHECK (max_devices >= 0),
                    daily_minutes REAL CHECK (daily_minutes >= 0),
                    description TEXT NOT NULL DEFAULT '',
                    updated_at INTEGER NOT NULL
                );

                CREATE TABLE licenses (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    key_hash TEXT NOT NULL UNIQUE,
                    key_prefix TEXT NOT NULL,
                    customer_name TEXT NOT NULL,
                    customer_email TEXT,
                    plan TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted_at INTEGER,
                    starts_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    validity_days INTEGER NOT NULL,
                    expiry_from_first_use INTEGER NOT NULL,
                    limit_ms INTEGER NOT NULL CHECK (limit_ms >= 0),
                    used_ms INTEGER NOT NULL DEFAULT 0 CHECK (used_ms >= 0),
                    session_limit INTEGER CHECK (session_limit >= 0),
                    sessions_used INTEGER NOT NULL DEFAULT 0,
                    daily_cap_ms INTEGER CHECK (daily_cap_ms >= 0),
                    max_concurrent INTEGER NOT NULL CHECK (max_concurrent >= 0),
                    max_devices INTEGER NOT NULL CHECK (max_devices >= 0),
                    ip_allowlist TEXT NOT NULL DEFAULT '[]',
                    notes TEXT NOT NULL DEFAULT '',
                    last_used_at INTEGER
                );
                CREATE INDEX licenses_status ON licenses(status);
                CREATE INDEX licenses_plan ON licenses(plan);

                CREATE TABLE license_devices (
                    license_id TEXT NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
                    fingerprint TEXT NOT NULL,
                    bound_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    PRIMARY KEY (license_id, fingerprint)
                ) WITHOUT ROWID;

                CREATE TABLE leases (
                    id TEXT PRIMARY KEY,
                    license_id TEXT NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
                    device_fingerprint TEXT NOT NULL,
                    holder TEXT,
                    client_ip TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX leases_license_expiry ON leases(license_id, expires_at);
                CREATE INDEX leases_expiry ON leases(expires_at);

                CREATE TABLE ledger (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    license_id TEXT NOT NULL,
                    session_id TEXT,
                    kind TEXT NOT NULL CHECK (kind IN ('debit', 'credit', 'session_start')),
                    requested_ms INTEGER NOT NULL,
                    amount_ms INTEGER NOT NULL,
                    balance_before_ms INTEGER NOT NULL,
                    balance_after_ms INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    day TEXT NOT NULL
                );
                CREATE INDEX ledger_license_day ON ledger(license_id, day, kind);
                CREATE INDEX ledger_day ON ledger(day);
                CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
                CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    ip TEXT,
                    action TEXT NOT NULL,
                    license_id TEXT,
                    detail TEXT
                );
                CREATE INDEX audit_license ON audit(license_id, seq);
                """)
            // The v1 columns, written out: a shipped migration must not follow later changes to
            // the table (SQLiteRows.upsert writes columns added since).
            for plan in Plan.defaults {
                try db.execute(
                    sql: """
                        INSERT INTO plans (name, validity_days, minutes, session_limit, max_concurrent, max_devices,
                            daily_minutes, description, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
                        """,
                    arguments: [
                        plan.name, plan.validityDays, plan.minutes, plan.sessionLimit, plan.maxConcurrent,
                        plan.maxDevices, plan.dailyMinutes, plan.description,
                    ])
            }
        }
        migrator.registerMigration("v2_stream_sessions") { db in
            try db.execute(sql: """
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
                    started_at INTEGER NOT NULL,
                    first_audio_at INTEGER,
                    last_checkpoint_at INTEGER,
                    billed_ms INTEGER NOT NULL DEFAULT 0,
                    last_sequence INTEGER NOT NULL DEFAULT -1,
                    ended_at INTEGER,
                    stop_reason TEXT
                ) WITHOUT ROWID;
                CREATE INDEX stream_sessions_live ON stream_sessions(status, license_id);
                """)
        }
        migrator.registerMigration("v3_daily_usage") { db in
            // A per-day counter beside the ledger, so daily caps cost one row read however long
            // the day's ledger grows. The ledger stays the source of truth for reports.
            try db.execute(sql: """
                CREATE TABLE daily_usage (
                    license_id TEXT NOT NULL,
                    day TEXT NOT NULL,
                    used_ms INTEGER NOT NULL,
                    PRIMARY KEY (license_id, day)
                ) WITHOUT ROWID;
                INSERT INTO daily_usage (license_id, day, used_ms)
                    SELECT license_id, day, SUM(amount_ms) FROM ledger WHERE kind = 'debit' GROUP BY license_id, day;
                """)
        }
        migrator.registerMigration("v4_provider_keys") { db in
            // Secrets only as AES-GCM ciphertext; the master key never touches the database.
            try db.execute(sql: """
                CREATE TABLE provider_keys (
                    id TEXT PRIMARY KEY,
                    provider TEXT NOT NULL,
                    label TEXT,
                    ciphertext BLOB NOT NULL,
                    fingerprint TEXT NOT NULL,
                    hint TEXT NOT NULL,
                    source TEXT NOT NULL CHECK (source IN ('env', 'file', 'admin')),
                    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
                    created_at INTEGER NOT NULL,
                    tasks INTEGER NOT NULL DEFAULT 0,
                    audio_ms INTEGER NOT NULL DEFAULT 0,
                    auth_failures INTEGER NOT NULL DEFAULT 0,
                    rate_limited INTEGER NOT NULL DEFAULT 0,
                    other_failures INTEGER NOT NULL DEFAULT 0,
                    last_used_at INTEGER,
                    last_error TEXT,
                    last_error_at INTEGER,
                    UNIQUE (provider, fingerprint)
                ) WITHOUT ROWID;
                ALTER TABLE stream_sessions ADD COLUMN provider_audio_ms INTEGER;
                ALTER TABLE stream_sessions ADD COLUMN provider_reported_seconds INTEGER;
                """)
        }
        migrator.registerMigration("v5_stream_reservations") { db in
            // The part of the license's balance a live session may still forward (see StreamBudgetPolicy).
            try db.execute(sql: "ALTER TABLE stream_sessions ADD COLUMN reserved_ms INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v6_provider_choice") { db in
            // The speech provider a plan's licenses and a license stream to; NULL: the default.
            try db.execute(sql: """
                ALTER TABLE plans ADD COLUMN provider TEXT;
                ALTER TABLE licenses ADD COLUMN provider TEXT;
                """)
        }
        migrator.registerMigration("v7_instances") { db in
            // Several central instances may share a database (PostgreSQL); SQLite has the same
            // schema so that every store passes one conformance suite and `store copy` maps 1:1.
            try db.execute(sql: """
                ALTER TABLE stream_sessions ADD COLUMN owner_instance TEXT;
                ALTER TABLE stream_sessions ADD COLUMN stop_requested TEXT;
                CREATE TABLE instances (
                    id TEXT PRIMARY KEY,
                    started_at INTEGER NOT NULL,
                    heartbeat_at INTEGER NOT NULL
                );
                CREATE TABLE stream_tickets (
                    token_hash TEXT PRIMARY KEY,
                    session_id TEXT NOT NULL,
                    license_id TEXT NOT NULL,
                    lease_id TEXT NOT NULL,
                    device_fingerprint TEXT NOT NULL,
                    client_ip TEXT NOT NULL,
                    resume INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                );
                CREATE INDEX stream_tickets_expiry ON stream_tickets(expires_at);
                """)
        }
        migrator.registerMigration("v8_reconciliation") { db in
            // Tokens the LLM translation of a session's sentences used (recognition-only
            // providers), the edge's own count of what it sent (the third count beside the
            // bill and the provider's figure), and a token-billed provider's figure.
            try db.execute(sql: """
                ALTER TABLE stream_sessions ADD COLUMN translation_tokens INTEGER;
                ALTER TABLE stream_sessions ADD COLUMN edge_sent_ms INTEGER;
                ALTER TABLE stream_sessions ADD COLUMN provider_reported_tokens INTEGER;
                """)
        }
        migrator.registerMigration("v9_chat") { db in
            // The chat proxy: a chat quota on plans and licenses (JSON, see ChatQuota), one row per
            // chat request (its reservation, then what it used), and ledger kinds for chat usage
            // with a quantity (requests or tokens). SQLite cannot change a CHECK constraint, so
            // the ledger is rebuilt with every row kept (and its append-only triggers).
            try db.execute(sql: """
                ALTER TABLE plans ADD COLUMN chat_quota TEXT;
                ALTER TABLE licenses ADD COLUMN chat_quota TEXT;

                CREATE TABLE ledger_v9 (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    license_id TEXT NOT NULL,
                    session_id TEXT,
                    kind TEXT NOT NULL CHECK (kind IN ('debit', 'credit', 'session_start', 'chat_request',
                        'chat_input_tokens', 'chat_output_tokens')),
                    requested_ms INTEGER NOT NULL,
                    amount_ms INTEGER NOT NULL,
                    balance_before_ms INTEGER NOT NULL,
                    balance_after_ms INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    day TEXT NOT NULL,
                    quantity INTEGER
                );
                INSERT INTO ledger_v9 (seq, license_id, session_id, kind, requested_ms, amount_ms, balance_before_ms,
                        balance_after_ms, reason, idempotency_key, created_at, day)
                    SELECT seq, license_id, session_id, kind, requested_ms, amount_ms, balance_before_ms,
                        balance_after_ms, reason, idempotency_key, created_at, day FROM ledger ORDER BY seq;
                DROP TABLE ledger;
                ALTER TABLE ledger_v9 RENAME TO ledger;
                CREATE INDEX ledger_license_day ON ledger(license_id, day, kind);
                CREATE INDEX ledger_day ON ledger(day);
                CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
                CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
                    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

                CREATE TABLE chat_requests (
                    id TEXT PRIMARY KEY,
                    license_id TEXT NOT NULL,
                    day TEXT NOT NULL,
                    model TEXT NOT NULL,
                    upstream TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('reserved', 'settled', 'released')),
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    reserved_tokens INTEGER NOT NULL,
                    input_tokens INTEGER,
                    output_tokens INTEGER,
                    usage_source TEXT,
                    settled_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX chat_requests_license_day ON chat_requests(license_id, day);
                CREATE INDEX chat_requests_license_created ON chat_requests(license_id, created_at);
                """)
        }
        migrator.registerMigration("v10_console") { db in
            // The operator's console: named operators with roles (tokens hashed), customers'
            // requests for more minutes (one pending per license, enforced by the index too),
            // webhook endpoints, events (one row per event id) and their deliveries.
            try db.execute(sql: """
                CREATE TABLE operators (
                    name TEXT PRIMARY KEY,
                    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    disabled_at INTEGER
                ) WITHOUT ROWID;

                CREATE TABLE minutes_requests (
                    id TEXT PRIMARY KEY,
                    license_id TEXT NOT NULL,
                    minutes REAL NOT NULL,
                    note TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
                    created_at INTEGER NOT NULL,
                    decided_at INTEGER,
                    decided_by TEXT,
                    granted_minutes REAL,
                    answer TEXT
                ) WITHOUT ROWID;
                CREATE INDEX minutes_requests_license ON minutes_requests(license_id, created_at);
                CREATE INDEX minutes_requests_status ON minutes_requests(status, created_at);
                CREATE UNIQUE INDEX minutes_requests_one_pending ON minutes_requests(license_id) WHERE status = 'pending';

                CREATE TABLE webhook_endpoints (
                    id TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    events TEXT NOT NULL,
                    enabled INTEGER NOT NULL,
                    description TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE webhook_events (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    license_id TEXT,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE webhook_deliveries (
                    id TEXT PRIMARY KEY,
                    event_id TEXT NOT NULL,
                    endpoint_id TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    next_attempt_at INTEGER,
                    last_attempt_at INTEGER,
                    last_status INTEGER,
                    last_error TEXT,
                    delivered_at INTEGER,
                    UNIQUE (event_id, endpoint_id)
                ) WITHOUT ROWID;
                CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
                CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at);
                """)
        }
        migrator.registerMigration("v11_console_sessions") { db in
            // Console sessions in the database, so every instance behind a load balancer knows
            // them; keyed by the cookie's hash (the cookie itself is never stored).
            try db.execute(sql: """
                CREATE TABLE console_sessions (
                    token_hash TEXT PRIMARY KEY,
                    operator_name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                    shared_token INTEGER NOT NULL,
                    shared_token_tag TEXT,
                    created_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX console_sessions_operator ON console_sessions(operator_name);
                CREATE INDEX console_sessions_last_seen ON console_sessions(last_seen_at);
                """)
        }
        return migrator
    }
}
