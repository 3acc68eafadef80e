import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    static let tokenColumns = "id, tenant, created_at, revoked_at"

    static func token(_ row: PostgresRandomAccessRow) throws -> APIToken {
        APIToken(id: try row.get(0), tenant: try row.get(1), createdAt: date(try row.get(2, as: Int64.self)), revokedAt: date(try row.get(3, as: Int64?.self)))
    }

    public func createToken(_ token: APIToken, digest: String, audit: AuditEntry) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in
            guard try await Self.fetchTenant(token.tenant, lock: true, on: connection, logger) != nil else {
                throw HooklineError.notFound(kind: "tenant", id: token.tenant)
            }
            try await connection.run(
                "INSERT INTO api_token (id, tenant, digest, created_at) VALUES (\(token.id), \(token.tenant), \(digest), \(Self.millis(token.createdAt)))", logger)
            try await Self.insertAudit(audit, on: connection, logger)
        }
    }

    public func token(digest: String) async throws(HooklineError) -> APIToken? {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows("SELECT \(unescaped: Self.tokenColumns) FROM api_token WHERE digest = \(digest)", logger).first.map(Self.token)
        }
    }

    public func tokens(tenant: String) async throws(HooklineError) -> [APIToken] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows("SELECT \(unescaped: Self.tokenColumns) FROM api_token WHERE tenant = \(tenant) ORDER BY id", logger).map(Self.token)
        }
    }

    public func revokeToken(id: String, tenant: String, at: Date, audit: AuditEntry) async throws(HooklineError) -> APIToken {
        let logger = self.logger
        return try await write { connection in
            guard let token = try await connection.rows("""
                UPDATE api_token SET revoked_at = coalesce(revoked_at, \(Self.millis(at)))
                WHERE id = \(id) AND tenant = \(tenant) RETURNING \(unescaped: Self.tokenColumns)
                """, logger).first.map(Self.token) else {
                throw HooklineError.notFound(kind: "token", id: id)
            }
            try await Self.insertAudit(audit, on: connection, logger)
            return token
        }
    }
}
