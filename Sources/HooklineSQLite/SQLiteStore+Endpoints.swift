import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func createEndpoint(_ endpoint: Endpoint, audit: AuditEntry) async throws(HooklineError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO endpoint (\(Self.endpointColumns)) VALUES (\(Self.endpointPlaceholders))",
                arguments: try Self.endpointArguments(endpoint, secrets: self.secrets))
            try Self.insertAudit(audit, in: db)
        }
    }

    public func endpoint(id: String) async throws(HooklineError) -> Endpoint? {
        try await read { db in try Self.fetchEndpoint(db, id: id, secrets: self.secrets) }
    }

    public func endpoints(_ query: EndpointQuery) async throws(HooklineError) -> [Endpoint] {
        try await read { db in
            var sql = "SELECT \(Self.endpointColumns) FROM endpoint"
            var arguments: StatementArguments = []
            if query.newestFirst {
                // "~" sorts after every id character: no cursor is the newest end.
                sql += " WHERE id < ?"
                arguments += [query.after ?? "~"]
            } else {
                sql += " WHERE id > ?"
                arguments += [query.after ?? ""]
            }
            if let tenant = query.tenant {
                sql += " AND tenant = ?"
                arguments += [tenant]
            }
            sql += query.newestFirst ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id LIMIT ?"
            arguments += [query.limit ?? -1]
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { try Self.endpoint($0, secrets: self.secrets) }
        }
    }

    public func endpoints(ids: [String]) async throws(HooklineError) -> [Endpoint] {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            var found: [Endpoint] = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(ids.count, start + 500)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                found += try Row.fetchAll(db, sql: "SELECT \(Self.endpointColumns) FROM endpoint WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
                    .map { try Self.endpoint($0, secrets: self.secrets) }
            }
            return found.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        }
    }

    public func endpoints(updatedSince since: Date) async throws(HooklineError) -> [Endpoint] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(Self.endpointColumns) FROM endpoint WHERE updated_at >= ? ORDER BY updated_at, id"),
                arguments: [Self.millis(since)]
            ).map { try Self.endpoint($0, secrets: self.secrets) }
        }
    }

    public func updateEndpoint(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Endpoint) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Endpoint {
            try await write { db in
                guard var endpoint = try Self.fetchEndpoint(db, id: id, secrets: self.secrets) else {
                    throw HooklineError.notFound(kind: "endpoint", id: id)
                }
                try change(&endpoint)
                endpoint.updatedAt = audit.at
                let sealed = try Self.sealedSecrets(endpoint, secrets: self.secrets)
                try db.execute(
                    sql: """
                        UPDATE endpoint SET url = ?, description = ?, event_types = ?, rate_limit = ?, updated_at = ?,
                                            secret = ?, previous_secret = ?, previous_secret_until = ?, headers = ?
                        WHERE id = ?
                        """,
                    arguments: [endpoint.url, endpoint.description, endpoint.eventTypes.storedValue,
                                endpoint.rateLimit, Self.millis(endpoint.updatedAt),
                                sealed.secret, sealed.previousSecret, Self.millis(endpoint.previousSecretUntil),
                                EndpointHeader.storedValue(endpoint.headers), id])
                try Self.insertAudit(audit, in: db)
                return endpoint
            }
    }

    public func setEndpointEnabled(
        id: String, enabled: Bool, reason: String?, releaseHeld: Bool, at: Date, audit: AuditEntry
    ) async throws(HooklineError) -> EndpointStateChange {
        try await write { db in
            guard try Self.fetchEndpoint(db, id: id, secrets: self.secrets) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: id)
            }
            let now = Self.millis(at)
            let moved: Int
            if enabled {
                try db.execute(
                    sql: "UPDATE endpoint SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, updated_at = ? WHERE id = ?",
                    arguments: [now, id])
                if releaseHeld {
                    try db.execute(
                        sql: """
                            UPDATE delivery SET status = 'pending', next_attempt_at = ?, updated_at = ?
                            WHERE endpoint_id = ? AND status = 'held'
                            """,
                        arguments: [now, now, id])
                    moved = db.changesCount
                } else {
                    moved = 0
                }
            } else {
                try db.execute(
                    sql: "UPDATE endpoint SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [reason ?? "disabled", now, now, id])
                try db.execute(
                    sql: """
                        UPDATE delivery SET status = 'held', next_attempt_at = NULL, updated_at = ?
                        WHERE endpoint_id = ? AND status = 'pending'
                        """,
                    arguments: [now, id])
                moved = db.changesCount
            }
            var counts = DeliveryCountChanges()
            counts.move(id, from: enabled ? .held : .pending, to: enabled ? .pending : .held, moved)
            try counts.save(in: db)
            var entry = audit
            if entry.detail.isEmpty {
                entry.detail = enabled ? "released \(moved) held deliveries" : "held \(moved) pending deliveries"
            }
            try Self.insertAudit(entry, in: db)
            guard let endpoint = try Self.fetchEndpoint(db, id: id, secrets: self.secrets) else {
                throw HooklineError.notFound(kind: "endpoint", id: id)
            }
            return EndpointStateChange(endpoint: endpoint, movedDeliveries: moved)
        }
    }

    public func removeEndpoint(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError) {
        try await write { db in
            guard try Self.fetchEndpoint(db, id: id, secrets: self.secrets) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: id)
            }
            let open = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM delivery WHERE endpoint_id = ? AND status != 'succeeded'",
                arguments: [id]) ?? 0
            let removal = try EndpointRemoval(endpointID: id, unfinished: open, force: force)
            try db.execute(sql: "DELETE FROM endpoint WHERE id = ?", arguments: [id])
            var entry = audit
            entry.detail = removal.auditDetail
            try Self.insertAudit(entry, in: db)
        }
    }

    static func fetchEndpoint(_ db: Database, id: String, secrets: SecretBox) throws -> Endpoint? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(endpointColumns) FROM endpoint WHERE id = ?"), arguments: [id]
        ).map { try endpoint($0, secrets: secrets) }
    }

    /// The values of ``endpointColumns`` for an endpoint, its secrets sealed.
    package static func endpointArguments(_ e: Endpoint, secrets: SecretBox) throws -> StatementArguments {
        let sealed = try sealedSecrets(e, secrets: secrets)
        return [e.id, e.url, e.description, sealed.secret, e.enabled, e.eventTypes.storedValue, e.rateLimit,
                e.disabledReason, millis(e.disabledAt), millis(e.createdAt), millis(e.updatedAt),
                sealed.previousSecret, millis(e.previousSecretUntil), e.tenant, EndpointHeader.storedValue(e.headers)]
    }

    /// The stored forms of an endpoint's secret and, during a rotation, of the one it replaced.
    static func sealedSecrets(_ e: Endpoint, secrets: SecretBox) throws -> (secret: String, previousSecret: String?) {
        (try secrets.seal(e.secret, endpointID: e.id), try e.previousSecret.map { try secrets.seal($0, endpointID: e.id) })
    }
}
