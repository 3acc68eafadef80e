import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func createTenant(_ tenant: Tenant, audit: AuditEntry) async throws(HooklineError) {
        try await write { db in
            guard try Self.fetchTenant(db, id: tenant.id) == nil else { throw Tenant.exists(tenant.id) }
            try db.execute(
                sql: "INSERT INTO tenant (\(Self.tenantColumns)) VALUES (?, ?, ?, ?)",
                arguments: [tenant.id, tenant.name, Tenant.storedValue(metadata: tenant.metadata), Self.millis(tenant.createdAt)])
            try Self.insertAudit(audit, in: db)
        }
    }

    public func tenant(id: String) async throws(HooklineError) -> Tenant? {
        try await read { db in try Self.fetchTenant(db, id: id) }
    }

    public func existingTenants(_ ids: [String]) async throws(HooklineError) -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            var found: Set<String> = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(ids.count, start + 500)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                found.formUnion(try String.fetchAll(db, sql: "SELECT id FROM tenant WHERE id IN (\(marks))", arguments: StatementArguments(chunk)))
            }
            return found
        }
    }

    public func tenants(_ query: TenantQuery) async throws(HooklineError) -> [Tenant] {
        try await read { db in
            switch query.order {
            case .id(let after):
                return try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT \(Self.tenantColumns) FROM tenant WHERE id > ? ORDER BY id LIMIT ?"),
                    arguments: [after ?? "", query.limit]
                ).map(Self.tenant)
            case .newestFirst(let before):
                // Tenants are hundreds, not millions: the sort needs no index of its own.
                let key = before.map { (Self.millis($0.createdAt), $0.id) } ?? (Int64.max, "")
                return try Row.fetchAll(
                    db.cachedStatement(sql: """
                        SELECT \(Self.tenantColumns) FROM tenant WHERE (created_at, id) < (?, ?) OR ? = 1
                        ORDER BY created_at DESC, id DESC LIMIT ?
                        """),
                    arguments: [key.0, key.1, before == nil ? 1 : 0, query.limit]
                ).map(Self.tenant)
            }
        }
    }

    public func updateTenant(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Tenant) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Tenant {
        try await write { db in
            guard var tenant = try Self.fetchTenant(db, id: id) else { throw HooklineError.notFound(kind: "tenant", id: id) }
            try change(&tenant)
            try db.execute(
                sql: "UPDATE tenant SET name = ?, metadata = ? WHERE id = ?",
                arguments: [tenant.name, Tenant.storedValue(metadata: tenant.metadata), id])
            try Self.insertAudit(audit, in: db)
            return tenant
        }
    }

    public func removeTenant(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError) -> Int {
        try await write { db in
            guard try Self.fetchTenant(db, id: id) != nil else { throw HooklineError.notFound(kind: "tenant", id: id) }
            let counts = try Row.fetchOne(db, sql: """
                SELECT count(*), coalesce(sum((SELECT coalesce(sum(n), 0) FROM delivery_count c
                                               WHERE c.endpoint_id = e.id AND c.status IN ('pending', 'sending'))), 0)
                FROM endpoint e WHERE e.tenant = ?
                """, arguments: [id])
            let plan = try TenantRemoval(tenant: id, endpoints: counts?[0] ?? 0, activeDeliveries: counts?[1] ?? 0, force: force)
            try db.execute(sql: "DELETE FROM endpoint WHERE tenant = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM event WHERE tenant = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM tenant WHERE id = ?", arguments: [id])
            var entry = audit
            entry.detail = plan.auditDetail
            try Self.insertAudit(entry, in: db)
            return plan.endpoints
        }
    }

    static func fetchTenant(_ db: Database, id: String) throws -> Tenant? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(tenantColumns) FROM tenant WHERE id = ?"), arguments: [id]).map(tenant)
    }
}
