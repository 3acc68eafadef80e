import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    /// The schema, one migration per released change. Never edit a migration that has shipped: add one.
    /// `secrets` seals the endpoint secrets that version 3 finds in plain text.
    static func migrator(secrets: SecretBox) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: endpoints, events, deliveries, attempts, breakers, audit") { db in
            try db.execute(sql: """
                CREATE TABLE endpoint (
                    id              TEXT PRIMARY KEY NOT NULL,
                    url             TEXT NOT NULL,
                    description     TEXT NOT NULL DEFAULT '',
                    secret          TEXT NOT NULL,
                    enabled         INTEGER NOT NULL DEFAULT 1,
                    event_types     TEXT NOT NULL DEFAULT '*',
                    rate_limit      REAL,
                    disabled_reason TEXT,
                    disabled_at     INTEGER,
                    created_at      INTEGER NOT NULL,
                    updated_at      INTEGER NOT NULL
                );

                CREATE TABLE event (
                    id         TEXT PRIMARY KEY NOT NULL,
                    type       TEXT NOT NULL,
                    payload    BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                -- The console's newest-first list, whole and by type.
                CREATE INDEX event_by_created ON event(created_at DESC, id DESC);
                CREATE INDEX event_by_type ON event(type, created_at DESC);

                CREATE TABLE delivery (
                    id               TEXT PRIMARY KEY NOT NULL,
                    event_id         TEXT NOT NULL REFERENCES event(id) ON DELETE CASCADE,
                    endpoint_id      TEXT NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
                    status           TEXT NOT NULL
                                     CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'held')),
                    attempts         INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at  INTEGER,
                    lease_until      INTEGER,
                    lease_owner      TEXT,
                    last_status_code INTEGER,
                    last_error       TEXT,
                    manual           INTEGER NOT NULL DEFAULT 0,
                    created_at       INTEGER NOT NULL,
                    updated_at       INTEGER NOT NULL,
                    UNIQUE (event_id, endpoint_id)
                );
                -- The dispatcher's claim: pending deliveries by due time; partial, so it stays small.
                CREATE INDEX delivery_due ON delivery(next_attempt_at) WHERE status = 'pending';
                -- Per-endpoint claims, so that one endpoint's backlog never blocks another's.
                CREATE INDEX delivery_due_by_endpoint ON delivery(endpoint_id, next_attempt_at) WHERE status = 'pending';
                -- Recovery of expired leases.
                CREATE INDEX delivery_leased ON delivery(lease_until) WHERE status = 'sending';
                -- Per-endpoint views and bulk actions (redeliver failed, hold, release).
                CREATE INDEX delivery_by_endpoint ON delivery(endpoint_id, status, updated_at);
                -- The console's failed pane, newest first.
                CREATE INDEX delivery_failed ON delivery(updated_at DESC) WHERE status = 'failed';
                CREATE INDEX delivery_by_created ON delivery(created_at DESC, id DESC);

                CREATE TABLE attempt (
                    id               INTEGER PRIMARY KEY,
                    delivery_id      TEXT NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
                    endpoint_id      TEXT NOT NULL,
                    number           INTEGER NOT NULL,
                    trigger          TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'test')),
                    started_at       INTEGER NOT NULL,
                    duration_ms      INTEGER NOT NULL,
                    status_code      INTEGER,
                    error_class      TEXT,
                    error_message    TEXT,
                    response_excerpt TEXT
                );
                CREATE INDEX attempt_by_delivery ON attempt(delivery_id, number);
                -- Success rate and latency per endpoint over a recent window.
                CREATE INDEX attempt_by_endpoint ON attempt(endpoint_id, started_at);
                -- The console header's throughput over the last hour.
                CREATE INDEX attempt_by_started ON attempt(started_at);
                -- The console header's held count.
                CREATE INDEX delivery_held ON delivery(endpoint_id) WHERE status = 'held';

                CREATE TABLE breaker (
                    endpoint_id          TEXT PRIMARY KEY NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
                    state                TEXT NOT NULL DEFAULT 'closed'
                                         CHECK (state IN ('closed', 'open', 'half_open')),
                    consecutive_failures INTEGER NOT NULL DEFAULT 0,
                    window_started_at    INTEGER,
                    window_attempts      INTEGER NOT NULL DEFAULT 0,
                    window_failures      INTEGER NOT NULL DEFAULT 0,
                    opened_at            INTEGER,
                    next_probe_at        INTEGER,
                    trips                INTEGER NOT NULL DEFAULT 0,
                    failing_since        INTEGER,
                    updated_at           INTEGER NOT NULL
                );

                CREATE TABLE audit (
                    id         INTEGER PRIMARY KEY,
                    at         INTEGER NOT NULL,
                    actor      TEXT NOT NULL,
                    action     TEXT NOT NULL,
                    target_ids TEXT NOT NULL,
                    detail     TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX audit_by_at ON audit(at DESC);
                """)
        }
        migrator.registerMigration("v2: deliveries without rowid, kept delivery counts, fewer indexes") { db in
            // Each index costs a B-tree update per delivery row on every insert and status change.
            // Gone: the global due index (claims and the next due time use the per-endpoint one),
            // the lease index (recovery looks per endpoint through delivery_by_endpoint) and the
            // creation-order index (delivery ids are ULIDs of the creation time: id order is that
            // order). Keyed by id without a rowid, a delivery is one B-tree entry, not two.
            try db.execute(sql: """
                CREATE TABLE delivery_v2 (
                    id               TEXT PRIMARY KEY NOT NULL,
                    event_id         TEXT NOT NULL REFERENCES event(id) ON DELETE CASCADE,
                    endpoint_id      TEXT NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
                    status           TEXT NOT NULL
                                     CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'held')),
                    attempts         INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at  INTEGER,
                    lease_until      INTEGER,
                    lease_owner      TEXT,
                    last_status_code INTEGER,
                    last_error       TEXT,
                    manual           INTEGER NOT NULL DEFAULT 0,
                    created_at       INTEGER NOT NULL,
                    updated_at       INTEGER NOT NULL,
                    UNIQUE (event_id, endpoint_id)
                ) WITHOUT ROWID;
                INSERT INTO delivery_v2 (id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, lease_owner,
                                         last_status_code, last_error, manual, created_at, updated_at)
                    SELECT id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, lease_owner,
                           last_status_code, last_error, manual, created_at, updated_at FROM delivery;
                DROP TABLE delivery;
                ALTER TABLE delivery_v2 RENAME TO delivery;
                -- Per-endpoint claims, so that one endpoint's backlog never blocks another's.
                CREATE INDEX delivery_due_by_endpoint ON delivery(endpoint_id, next_attempt_at) WHERE status = 'pending';
                -- Per-endpoint views, bulk actions (redeliver failed, hold, release) and lease recovery.
                CREATE INDEX delivery_by_endpoint ON delivery(endpoint_id, status, updated_at);
                -- The console's failed pane, newest first.
                CREATE INDEX delivery_failed ON delivery(updated_at DESC) WHERE status = 'failed';
                CREATE INDEX delivery_held ON delivery(endpoint_id) WHERE status = 'held';

                -- Deliveries per endpoint and status, kept by the application in the transaction
                -- that changes them (see DeliveryCountChanges).
                CREATE TABLE delivery_count (
                    endpoint_id TEXT NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
                    status      TEXT NOT NULL,
                    n           INTEGER NOT NULL,
                    PRIMARY KEY (endpoint_id, status)
                ) WITHOUT ROWID;
                INSERT INTO delivery_count (endpoint_id, status, n)
                    SELECT endpoint_id, status, count(*) FROM delivery GROUP BY endpoint_id, status;
                """)
        }
        migrator.registerMigration("v3: endpoint secrets sealed at rest, secret rotation") { db in
            try db.execute(sql: """
                CREATE TABLE setting (
                    name  TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                -- During a rotation, the secret that was replaced, and until when it also signs.
                ALTER TABLE endpoint ADD COLUMN previous_secret TEXT;
                ALTER TABLE endpoint ADD COLUMN previous_secret_until INTEGER;
                """)
            for row in try Row.fetchAll(db, sql: "SELECT id, secret FROM endpoint") {
                let id: String = row[0]
                try db.execute(
                    sql: "UPDATE endpoint SET secret = ? WHERE id = ?",
                    arguments: [try secrets.seal(try secrets.unseal(row[1], endpointID: id), endpointID: id), id])
            }
            try db.execute(
                sql: "INSERT INTO setting (name, value) VALUES ('secret_check', ?)",
                arguments: [try secrets.seal(SecretBox.checkValue, endpointID: "setting")])
        }
        migrator.registerMigration("v4: covering indexes for the console's last-hour figures") { db in
            // The success rates, p95 latencies and per-minute throughput of the last hour read only
            // these indexes, never the attempt rows: 7 ms less per console frame on 4M attempts.
            try db.execute(sql: """
                DROP INDEX attempt_by_endpoint;
                CREATE INDEX attempt_by_endpoint ON attempt(endpoint_id, started_at, duration_ms);
                DROP INDEX attempt_by_started;
                CREATE INDEX attempt_by_started ON attempt(started_at, endpoint_id, status_code);
                """)
        }
        migrator.registerMigration("v5: test sends") { db in
            // Test sends are not deliveries: they have no event row and never enter the queue.
            try db.execute(sql: """
                CREATE TABLE test_attempt (
                    id               INTEGER PRIMARY KEY,
                    endpoint_id      TEXT NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
                    event_id         TEXT NOT NULL,
                    event_type       TEXT NOT NULL,
                    started_at       INTEGER NOT NULL,
                    duration_ms      INTEGER NOT NULL,
                    status_code      INTEGER,
                    error_class      TEXT,
                    error_message    TEXT,
                    response_excerpt TEXT
                );
                CREATE INDEX test_attempt_by_endpoint ON test_attempt(endpoint_id, started_at);
                """)
        }
        migrator.registerMigration("v6: rate limits shared by every dispatcher") { db in
            // A rate-limited endpoint's token bucket, which every dispatcher's claims draw from.
            try db.execute(sql: """
                CREATE TABLE rate_bucket (
                    endpoint_id TEXT PRIMARY KEY NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,
                    tokens      REAL NOT NULL,
                    updated_at  INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v7: dispatch cost grows with work, not with endpoints") { db in
            // Lease recovery reads only the deliveries in flight (a few hundred at most), and a
            // dispatcher watches only the breakers that are not closed and the endpoints that
            // changed, however many endpoints exist.
            try db.execute(sql: """
                CREATE INDEX delivery_leased ON delivery(lease_until) WHERE status = 'sending';
                CREATE INDEX breaker_not_closed ON breaker(endpoint_id) WHERE state != 'closed';
                CREATE INDEX endpoint_by_updated ON endpoint(updated_at);
                """)
        }
        migrator.registerMigration("v8: tenants, custom headers") { db in
            // Every endpoint and event of a database from before tenants belongs to `default`.
            // Added columns with a constant default cost nothing per row in SQLite.
            try db.execute(sql: """
                CREATE TABLE tenant (
                    id         TEXT PRIMARY KEY,
                    name       TEXT NOT NULL,
                    metadata   TEXT NOT NULL DEFAULT '{}',
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                ALTER TABLE endpoint ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE endpoint ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE event ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
                CREATE INDEX endpoint_by_tenant ON endpoint(tenant, id);
                CREATE INDEX event_by_tenant ON event(tenant, created_at, id);
                """)
            try db.execute(
                sql: "INSERT INTO tenant (id, name, metadata, created_at) VALUES (?, ?, '{}', ?)",
                arguments: [Tenant.defaultID, Tenant.defaultID, Int64(Date().timeIntervalSince1970 * 1000)])
        }
        migrator.registerMigration("v9: tenant tokens, idempotency keys") { db in
            // Tokens are kept by the SHA-256 digest of their value; they go with their tenant.
            // Idempotency keys are the producer's own strings, one namespace per tenant.
            try db.execute(sql: """
                CREATE TABLE api_token (
                    id         TEXT PRIMARY KEY,
                    tenant     TEXT NOT NULL REFERENCES tenant(id) ON DELETE CASCADE,
                    digest     TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX api_token_by_tenant ON api_token(tenant, id);
                CREATE TABLE idempotency_key (
                    tenant       TEXT NOT NULL,
                    key          TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    resource_id  TEXT,
                    created_at   INTEGER NOT NULL,
                    PRIMARY KEY (tenant, key)
                ) WITHOUT ROWID;
                CREATE INDEX idempotency_key_by_age ON idempotency_key(created_at);
                """)
        }
        migrator.registerMigration("v10: an endpoint's deliveries in id order") { db in
            // Pages of one endpoint's deliveries, newest first, and a tenant's merged from its
            // endpoints' (GET /v1/deliveries?endpoint= and ?tenant=): a seek, not a sort.
            try db.execute(sql: "CREATE INDEX delivery_by_endpoint_id ON delivery(endpoint_id, id)")
        }
        migrator.registerMigration("v11: the last hour's figures in one pass") { db in
            // Success rates and p95 latencies of every endpoint from one walk of this index, instead
            // of one p95 query per endpoint with attempts (a frame over 1,000 endpoints: 23 -> 9 ms).
            try db.execute(sql: """
                DROP INDEX attempt_by_started;
                CREATE INDEX attempt_by_started ON attempt(started_at, endpoint_id, status_code, duration_ms);
                """)
        }
        migrator.registerMigration("v12: no index entry rewritten when a delivery is claimed or succeeds") { db in
            // delivery_by_endpoint keyed every delivery by (endpoint, status, updated_at), so each
            // claim and each recorded attempt moved its entry (two B-tree writes each, about a
            // fifth of the dispatcher's row work). Its only reader looked for failed deliveries;
            // the other statuses have partial indexes, the kept counts answer "how many", and
            // delivery_by_endpoint_id pages an endpoint's deliveries.
            try db.execute(sql: """
                DROP INDEX delivery_by_endpoint;
                CREATE INDEX delivery_failed_by_endpoint ON delivery(endpoint_id, updated_at) WHERE status = 'failed';
                """)
        }
        migrator.registerMigration("v13: redacted events") { db in
            // When an event's payload was erased; NULL for every other event (free to add in SQLite).
            try db.execute(sql: "ALTER TABLE event ADD COLUMN redacted_at INTEGER")
        }
        migrator.registerMigration("v14: trace context of events") { db in
            // The W3C traceparent of the ingest span, with tracing on; NULL otherwise.
            try db.execute(sql: "ALTER TABLE event ADD COLUMN trace_parent TEXT")
        }
        migrator.registerMigration("v15: CHECK constraints without IN lists") { db in
            // SQLite compiles `CHECK (x IN (three or more values))` into a temporary B-tree that it
            // builds and drops for every row written: three per delivery (its claim, its attempt row,
            // its recorded outcome), about a third of the writer's instructions. The same rules as
            // OR chains cost a few comparisons. Only the constraints' text changes, which SQLite's
            // documented `writable_schema` procedure allows without rebuilding the tables: every row
            // that met the old constraint meets the new one.
            try db.execute(sql: "PRAGMA writable_schema = ON")
            for (table, column, values) in Self.enumeratedChecks {
                let old = "\(column) IN (\(values.map { "'\($0)'" }.joined(separator: ", ")))"
                let new = values.map { "\(column) = '\($0)'" }.joined(separator: " OR ")
                try db.execute(
                    sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ? AND instr(sql, ?) > 0",
                    arguments: [old, new, table, old])
            }
            let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
            try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        return migrator
    }

    /// The columns whose CHECK constraint lists their values (rewritten by migration v15).
    static let enumeratedChecks: [(table: String, column: String, values: [String])] = [
        ("delivery", "status", ["pending", "sending", "succeeded", "failed", "held"]),
        ("attempt", "trigger", ["scheduled", "manual", "test"]),
        ("breaker", "state", ["closed", "open", "half_open"]),
    ]
}
