import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    public func createEndpoint(_ e: Endpoint, audit: AuditEntry) async throws(HooklineError) {
        let logger = self.logger
        let secret = try secrets.seal(e.secret, endpointID: e.id)
        let previous = try e.previousSecret.map { s throws(HooklineError) in try secrets.seal(s, endpointID: e.id) }
        try await write { connection in
            try await connection.run("""
                INSERT INTO endpoint (\(unescaped: Self.endpointColumns))
                VALUES (\(e.id), \(e.url), \(e.description), \(secret), \(e.enabled), \(e.eventTypes.storedValue), \(e.rateLimit),
                        \(e.disabledReason), \(Self.millis(e.disabledAt)), \(Self.millis(e.createdAt)), \(Self.millis(e.updatedAt)),
                        \(previous), \(Self.millis(e.previousSecretUntil)), \(e.tenant), \(EndpointHeader.storedValue(e.headers)))
                """, logger)
            try await Self.insertAudit(audit, on: connection, logger)
        }
    }

    public func endpoint(id: String) async throws(HooklineError) -> Endpoint? {
        try await read { connection in try await self.fetchEndpoint(id, on: connection) }
    }

    public func endpoints(_ query: EndpointQuery) async throws(HooklineError) -> [Endpoint] {
        let logger = self.logger
        return try await read { connection in
            // A tenant is the value or NULL (every tenant); no limit is LIMIT NULL.
            if query.newestFirst {
                // "~" sorts after every id character: no cursor is the newest end.
                return try await connection.rows("""
                    SELECT \(unescaped: Self.endpointColumns) FROM endpoint
                    WHERE id < \(query.after ?? "~") AND (\(query.tenant)::text IS NULL OR tenant = \(query.tenant))
                    ORDER BY id DESC LIMIT \(query.limit)
                    """, logger
                ).map(self.endpoint)
            }
            return try await connection.rows("""
                SELECT \(unescaped: Self.endpointColumns) FROM endpoint
                WHERE id > \(query.after ?? "") AND (\(query.tenant)::text IS NULL OR tenant = \(query.tenant))
                ORDER BY id LIMIT \(query.limit)
                """, logger
            ).map(self.endpoint)
        }
    }

    public func endpoints(ids: [String]) async throws(HooklineError) -> [Endpoint] {
        guard !ids.isEmpty else { return [] }
        let logger = self.logger
        return try await read { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.endpointColumns) FROM endpoint WHERE id = ANY(\(ids)) ORDER BY id", logger
            ).map(self.endpoint)
        }
    }

    public func endpoints(updatedSince since: Date) async throws(HooklineError) -> [Endpoint] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.endpointColumns) FROM endpoint WHERE updated_at >= \(Self.millis(since)) ORDER BY updated_at, id", logger
            ).map(self.endpoint)
        }
    }

    public func updateEndpoint(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Endpoint) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Endpoint {
        let logger = self.logger
        return try await write { connection in
            guard var endpoint = try await self.fetchEndpoint(id, on: connection, lock: true) else {
                throw HooklineError.notFound(kind: "endpoint", id: id)
            }
            try change(&endpoint)
            endpoint.updatedAt = audit.at
            let secret = try self.secrets.seal(endpoint.secret, endpointID: id)
            let previous = try endpoint.previousSecret.map { try self.secrets.seal($0, endpointID: id) }
            try await connection.run("""
                UPDATE endpoint SET url = \(endpoint.url), description = \(endpoint.description), event_types = \(endpoint.eventTypes.storedValue),
                                    rate_limit = \(endpoint.rateLimit), updated_at = \(Self.millis(endpoint.updatedAt)), secret = \(secret),
                                    previous_secret = \(previous), previous_secret_until = \(Self.millis(endpoint.previousSecretUntil)),
                                    headers = \(EndpointHeader.storedValue(endpoint.headers))
                WHERE id = \(id)
                """, logger)
            try await Self.insertAudit(audit, on: connection, logger)
            return endpoint
        }
    }

    public func setEndpointEnabled(
        id: String, enabled: Bool, reason: String?, releaseHeld: Bool, at: Date, audit: AuditEntry
    ) async throws(HooklineError) -> EndpointStateChange {
        let logger = self.logger
        let now = Self.millis(at)
        return try await write { connection in
            guard try await self.fetchEndpoint(id, on: connection, lock: true) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: id)
            }
            var moved = 0
            if enabled {
                try await connection.run(
                    "UPDATE endpoint SET enabled = true, disabled_reason = NULL, disabled_at = NULL, updated_at = \(now) WHERE id = \(id)", logger)
                if releaseHeld {
                    moved = try await Self.count(connection, logger, """
                        UPDATE delivery SET status = 'pending', next_attempt_at = \(now), updated_at = \(now)
                        WHERE endpoint_id = \(id) AND status = 'held' RETURNING 1
                        """)
                }
            } else {
                try await connection.run(
                    "UPDATE endpoint SET enabled = false, disabled_reason = \(reason ?? "disabled"), disabled_at = \(now), updated_at = \(now) WHERE id = \(id)",
                    logger)
                moved = try await Self.count(connection, logger, """
                    UPDATE delivery SET status = 'held', next_attempt_at = NULL, updated_at = \(now)
                    WHERE endpoint_id = \(id) AND status = 'pending' RETURNING 1
                    """)
            }
            var counts = DeliveryCountChanges()
            counts.move(id, from: enabled ? .held : .pending, to: enabled ? .pending : .held, moved)
            try await counts.save(on: connection, logger)
            var entry = audit
            if entry.detail.isEmpty {
                entry.detail = enabled ? "released \(moved) held deliveries" : "held \(moved) pending deliveries"
            }
            try await Self.insertAudit(entry, on: connection, logger)
            guard let endpoint = try await self.fetchEndpoint(id, on: connection) else { throw HooklineError.notFound(kind: "endpoint", id: id) }
            return EndpointStateChange(endpoint: endpoint, movedDeliveries: moved)
        }
    }

    public func removeEndpoint(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in
            guard try await self.fetchEndpoint(id, on: connection, lock: true) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: id)
            }
            let open = try await connection.rows(
                "SELECT count(*) FROM delivery WHERE endpoint_id = \(id) AND status <> 'succeeded'", logger
            ).first?.get(0, as: Int.self) ?? 0
            let removal = try EndpointRemoval(endpointID: id, unfinished: open, force: force)
            try await connection.run("DELETE FROM endpoint WHERE id = \(id)", logger)
            var entry = audit
            entry.detail = removal.auditDetail
            try await Self.insertAudit(entry, on: connection, logger)
        }
    }

    /// How many rows a statement that ends in `RETURNING 1` changed.
    static func count(_ connection: PostgresConnection, _ logger: Logger, _ query: PostgresQuery) async throws -> Int {
        var changed = 0
        for try await _ in try await connection.query(query, logger: logger) { changed += 1 }
        return changed
    }
}
