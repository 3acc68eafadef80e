import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    static let tokenColumns = "id, tenant, created_at, revoked_at"

    static func token(_ row: Row) -> APIToken {
        APIToken(id: row[0], tenant: row[1], createdAt: date(row[2] as Int64), revokedAt: date(row[3] as Int64?))
    }

    public func createToken(_ token: APIToken, digest: String, audit: AuditEntry) async throws(HooklineError) {
        try await write { db in
            guard try Self.fetchTenant(db, id: token.tenant) != nil else { throw HooklineError.notFound(kind: "tenant", id: token.tenant) }
            try db.execute(
                sql: "INSERT INTO api_token (id, tenant, digest, created_at) VALUES (?, ?, ?, ?)",
                arguments: [token.id, token.tenant, digest, Self.millis(token.createdAt)])
            try Self.insertAudit(audit, in: db)
        }
    }

    public func token(digest: String) async throws(HooklineError) -> APIToken? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.tokenColumns) FROM api_token WHERE digest = ?"), arguments: [digest]).map(Self.token)
        }
    }

    public func tokens(tenant: String) async throws(HooklineError) -> [APIToken] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.tokenColumns) FROM api_token WHERE tenant = ? ORDER BY id"), arguments: [tenant]).map(Self.token)
        }
    }

    public func revokeToken(id: String, tenant: String, at: Date, audit: AuditEntry) async throws(HooklineError) -> APIToken {
        try await write { db in
            try db.execute(
                sql: "UPDATE api_token SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND tenant = ?",
                arguments: [Self.millis(at), id, tenant])
            guard let token = try Row.fetchOne(db, sql: "SELECT \(Self.tokenColumns) FROM api_token WHERE id = ? AND tenant = ?", arguments: [id, tenant])
                .map(Self.token) else {
                throw HooklineError.notFound(kind: "token", id: id)
            }
            try Self.insertAudit(audit, in: db)
            return token
        }
    }
}
