import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    /// The schema, one migration per released change (never edit one that has shipped). Version 1 is
    /// SQLite's schema at its version 5, with the indexes the queries need; partial where they help.
    static let migrations: [(version: Int, name: String, sql: String)] = [
        (1, "endpoints, events, deliveries, attempts, breakers, audit, settings, test sends, rate buckets", """
            CREATE TABLE endpoint (
                id                    text PRIMARY KEY,
                url                   text NOT NULL,
                description           text NOT NULL DEFAULT '',
                secret                text NOT NULL,
                enabled               boolean NOT NULL DEFAULT true,
                event_types           text NOT NULL DEFAULT '*',
                rate_limit            double precision,
                disabled_reason       text,
                disabled_at           bigint,
                created_at            bigint NOT NULL,
                updated_at            bigint NOT NULL,
                previous_secret       text,
                previous_secret_until bigint
            );
            CREATE TABLE event (
                id         text PRIMARY KEY,
                type       text NOT NULL,
                payload    bytea NOT NULL,
                created_at bigint NOT NULL
            );
            CREATE INDEX event_by_created ON event (created_at DESC, id DESC);
            CREATE INDEX event_by_type ON event (type, created_at DESC);
            CREATE TABLE delivery (
                id               text PRIMARY KEY,
                event_id         text NOT NULL REFERENCES event (id) ON DELETE CASCADE,
                endpoint_id      text NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
                status           text NOT NULL CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'held')),
                attempts         integer NOT NULL DEFAULT 0,
                next_attempt_at  bigint,
                lease_until      bigint,
                lease_owner      text,
                last_status_code integer,
                last_error       text,
                manual           boolean NOT NULL DEFAULT false,
                created_at       bigint NOT NULL,
                updated_at       bigint NOT NULL,
                UNIQUE (event_id, endpoint_id)
            );
            -- Claims per endpoint (and the pending count): small, as only pending rows are in it.
            CREATE INDEX delivery_due_by_endpoint ON delivery (endpoint_id, next_attempt_at) WHERE status = 'pending';
            -- Leases to recover, and the in-flight count.
            CREATE INDEX delivery_sending ON delivery (lease_until) WHERE status = 'sending';
            CREATE INDEX delivery_by_endpoint ON delivery (endpoint_id, status, updated_at);
            CREATE INDEX delivery_failed ON delivery (updated_at DESC) WHERE status = 'failed';
            CREATE INDEX delivery_held ON delivery (endpoint_id) WHERE status = 'held';
            CREATE TABLE attempt (
                id               bigserial PRIMARY KEY,
                delivery_id      text NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
                endpoint_id      text NOT NULL,
                number           integer NOT NULL,
                trigger          text NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'test')),
                started_at       bigint NOT NULL,
                duration_ms      integer NOT NULL,
                status_code      integer,
                error_class      text,
                error_message    text,
                response_excerpt text
            );
            CREATE INDEX attempt_by_delivery ON attempt (delivery_id, number);
            CREATE INDEX attempt_by_endpoint ON attempt (endpoint_id, started_at) INCLUDE (duration_ms);
            CREATE INDEX attempt_by_started ON attempt (started_at) INCLUDE (endpoint_id, status_code);
            CREATE TABLE breaker (
                endpoint_id          text PRIMARY KEY REFERENCES endpoint (id) ON DELETE CASCADE,
                state                text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
                consecutive_failures integer NOT NULL DEFAULT 0,
                window_started_at    bigint,
                window_attempts      integer NOT NULL DEFAULT 0,
                window_failures      integer NOT NULL DEFAULT 0,
                opened_at            bigint,
                next_probe_at        bigint,
                trips                integer NOT NULL DEFAULT 0,
                failing_since        bigint,
                updated_at           bigint NOT NULL
            );
            -- One token bucket per rate-limited endpoint, shared by every node's claims.
            CREATE TABLE rate_bucket (
                endpoint_id text PRIMARY KEY REFERENCES endpoint (id) ON DELETE CASCADE,
                tokens      double precision NOT NULL,
                updated_at  bigint NOT NULL
            );
            CREATE TABLE audit (
                id         bigserial PRIMARY KEY,
                at         bigint NOT NULL,
                actor      text NOT NULL,
                action     text NOT NULL,
                target_ids text NOT NULL,
                detail     text NOT NULL DEFAULT ''
            );
            CREATE INDEX audit_by_at ON audit (at DESC);
            CREATE TABLE setting (
                name  text PRIMARY KEY,
                value text NOT NULL
            );
            CREATE TABLE test_attempt (
                id               bigserial PRIMARY KEY,
                endpoint_id      text NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
                event_id         text NOT NULL,
                event_type       text NOT NULL,
                started_at       bigint NOT NULL,
                duration_ms      integer NOT NULL,
                status_code      integer,
                error_class      text,
                error_message    text,
                response_excerpt text
            );
            CREATE INDEX test_attempt_by_endpoint ON test_attempt (endpoint_id, started_at);
            """),
        (2, "kept delivery counts: appended deltas, folded now and then", """
            -- Deliveries per endpoint and status. Transactions never update these rows (every node's
            -- would queue on them): they append their changes to delivery_count_delta, which one
            -- node at a time folds in (PostgresStore.foldCounts).
            CREATE TABLE delivery_count (
                endpoint_id text NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
                status      text NOT NULL,
                n           bigint NOT NULL,
                PRIMARY KEY (endpoint_id, status)
            );
            CREATE TABLE delivery_count_delta (
                id          bigserial PRIMARY KEY,
                endpoint_id text NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
                status      text NOT NULL,
                n           bigint NOT NULL
            );
            INSERT INTO delivery_count (endpoint_id, status, n) SELECT endpoint_id, status, count(*) FROM delivery GROUP BY endpoint_id, status;
            """),
        (3, "dispatch cost grows with work, not with endpoints", """
            -- A dispatcher watches only the breakers that are not closed and the endpoints that
            -- changed, however many endpoints exist.
            CREATE INDEX breaker_not_closed ON breaker (endpoint_id) WHERE state <> 'closed';
            CREATE INDEX endpoint_by_updated ON endpoint (updated_at);
            """),
        (4, "tenants, custom headers", """
            -- Every endpoint and event of a database from before tenants belongs to 'default'.
            -- Added columns with a constant default rewrite no rows.
            CREATE TABLE tenant (
                id         text PRIMARY KEY,
                name       text NOT NULL,
                metadata   text NOT NULL DEFAULT '{}',
                created_at bigint NOT NULL
            );
            INSERT INTO tenant (id, name, metadata, created_at)
                VALUES ('default', 'default', '{}', (extract(epoch FROM now()) * 1000)::bigint);
            ALTER TABLE endpoint ADD COLUMN tenant text NOT NULL DEFAULT 'default';
            ALTER TABLE endpoint ADD COLUMN headers text NOT NULL DEFAULT '[]';
            ALTER TABLE event ADD COLUMN tenant text NOT NULL DEFAULT 'default';
            CREATE INDEX endpoint_by_tenant ON endpoint (tenant, id);
            CREATE INDEX event_by_tenant ON event (tenant, created_at, id);
            """),
        (5, "tenant tokens, idempotency keys", """
            -- Tokens are kept by the SHA-256 digest of their value; they go with their tenant.
            -- Idempotency keys are the producer's own strings, one namespace per tenant.
            CREATE TABLE api_token (
                id         text PRIMARY KEY,
                tenant     text NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
                digest     text NOT NULL UNIQUE,
                created_at bigint NOT NULL,
                revoked_at bigint
            );
            CREATE INDEX api_token_by_tenant ON api_token (tenant, id);
            CREATE TABLE idempotency_key (
                tenant       text NOT NULL,
                key          text NOT NULL,
                request_hash text NOT NULL,
                resource_id  text,
                created_at   bigint NOT NULL,
                PRIMARY KEY (tenant, key)
            );
            CREATE INDEX idempotency_key_by_age ON idempotency_key (created_at);
            """),
        (6, "an endpoint's deliveries in id order", """
            -- Pages of one endpoint's deliveries, newest first, and a tenant's merged from its
            -- endpoints' (GET /v1/deliveries?endpoint= and ?tenant=): a seek, not a sort.
            CREATE INDEX delivery_by_endpoint_id ON delivery (endpoint_id, id);
            """),
        (7, "no index entry rewritten when a delivery is claimed or succeeds", """
            -- (endpoint, status, updated_at) moved every delivery's entry on each claim and each
            -- recorded attempt; only failed deliveries were looked up through it.
            DROP INDEX delivery_by_endpoint;
            CREATE INDEX delivery_failed_by_endpoint ON delivery (endpoint_id, updated_at) WHERE status = 'failed';
            """),
        (8, "redacted events", """
            -- When an event's payload was erased; NULL for every other event (no table rewrite).
            ALTER TABLE event ADD COLUMN redacted_at bigint;
            """),
        (9, "trace context of events", """
            -- The W3C traceparent of the ingest span, with tracing on; NULL otherwise.
            ALTER TABLE event ADD COLUMN trace_parent text;
            """),
    ]

    /// Applies the migrations not applied yet, one transaction each, under an advisory lock so that
    /// nodes starting together migrate once. Refuses another application's database and a newer schema.
    func migrate() async throws(HooklineError) {
        let logger = self.logger
        let location = self.location
        let known = Self.migrations.map(\.version).max() ?? 0
        try await write { connection in
            // Held until this transaction ends; every node takes the same one.
            try await connection.run("SELECT pg_advisory_xact_lock(\(Int64(0x484B_4C4E)))", logger)
            let tables = try await connection.rows(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()", logger
            ).map { try $0.get(0, as: String.self) }
            if !tables.contains("schema_migration") {
                if !tables.isEmpty {
                    throw HooklineError.notAHooklineDatabase(path: location, reason: "it holds \(tables.count) tables of another application")
                }
                try await connection.run("""
                    CREATE TABLE schema_migration (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)
                    """, logger)
            }
            let applied = Set(try await connection.rows("SELECT version FROM schema_migration", logger).map { try $0.get(0, as: Int.self) })
            if let newest = applied.max(), newest > known {
                throw HooklineError.databaseFromNewerVersion(path: location)
            }
            for migration in Self.migrations where !applied.contains(migration.version) {
                // One statement per query: the extended protocol takes no more.
                for statement in migration.sql.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger)
                }
                let now = Self.millis(Date())
                try await connection.run(
                    "INSERT INTO schema_migration (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(now))", logger)
                if migration.version == 1 {
                    let check = try self.secrets.seal(SecretBox.checkValue, endpointID: "setting")
                    try await connection.run("INSERT INTO setting (name, value) VALUES ('secret_check', \(check))", logger)
                }
            }
        }
    }

    /// Refuses a key other than the one the database's secrets were sealed with.
    func checkSecretKey() async throws(HooklineError) {
        let logger = self.logger
        let stored = try await read { connection in
            try await connection.rows("SELECT value FROM setting WHERE name = 'secret_check'", logger).first?.get(0, as: String.self)
        }
        guard let stored, (try? secrets.unseal(stored, endpointID: "setting")) == SecretBox.checkValue else {
            throw .wrongSecretKey(source: secrets.source)
        }
    }
}
