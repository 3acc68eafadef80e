import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    public func createTenant(_ tenant: Tenant, audit: AuditEntry) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in
            let inserted = try await Self.count(connection, logger, """
                INSERT INTO tenant (\(unescaped: Self.tenantColumns))
                VALUES (\(tenant.id), \(tenant.name), \(Tenant.storedValue(metadata: tenant.metadata)), \(Self.millis(tenant.createdAt)))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """)
            guard inserted == 1 else { throw Tenant.exists(tenant.id) }
            try await Self.insertAudit(audit, on: connection, logger)
        }
    }

    public func tenant(id: String) async throws(HooklineError) -> Tenant? {
        let logger = self.logger
        return try await read { connection in try await Self.fetchTenant(id, lock: false, on: connection, logger) }
    }

    public func existingTenants(_ ids: [String]) async throws(HooklineError) -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let logger = self.logger
        return try await read { connection in
            Set(try await connection.rows("SELECT id FROM tenant WHERE id = ANY(\(ids))", logger).map { try $0.get(0, as: String.self) })
        }
    }

    public func tenants(_ query: TenantQuery) async throws(HooklineError) -> [Tenant] {
        let logger = self.logger
        return try await read { connection in
            switch query.order {
            case .id(let after):
                return try await connection.rows(
                    "SELECT \(unescaped: Self.tenantColumns) FROM tenant WHERE id > \(after ?? "") ORDER BY id LIMIT \(query.limit)", logger
                ).map(Self.tenant)
            case .newestFirst(let before):
                // Tenants are hundreds, not millions: the sort needs no index of its own.
                let millis = before.map { Self.millis($0.createdAt) }
                return try await connection.rows("""
                    SELECT \(unescaped: Self.tenantColumns) FROM tenant
                    WHERE \(millis)::bigint IS NULL OR (created_at, id) < (\(millis), \(before?.id ?? ""))
                    ORDER BY created_at DESC, id DESC LIMIT \(query.limit)
                    """, logger
                ).map(Self.tenant)
            }
        }
    }

    public func updateTenant(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Tenant) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Tenant {
        let logger = self.logger
        return try await write { connection in
            guard var tenant = try await Self.fetchTenant(id, lock: true, on: connection, logger) else {
                throw HooklineError.notFound(kind: "tenant", id: id)
            }
            try change(&tenant)
            try await connection.run(
                "UPDATE tenant SET name = \(tenant.name), metadata = \(Tenant.storedValue(metadata: tenant.metadata)) WHERE id = \(id)", logger)
            try await Self.insertAudit(audit, on: connection, logger)
            return tenant
        }
    }

    public func removeTenant(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError) -> Int {
        let logger = self.logger
        return try await write { connection in
            guard try await Self.fetchTenant(id, lock: true, on: connection, logger) != nil else {
                throw HooklineError.notFound(kind: "tenant", id: id)
            }
            // The tenant's endpoints are locked so that no claim starts on them meanwhile.
            let endpoints = try await connection.rows(
                "SELECT id FROM endpoint WHERE tenant = \(id) ORDER BY id FOR UPDATE", logger
            ).map { try $0.get(0, as: String.self) }
            let active = try await connection.rows(
                "SELECT count(*) FROM delivery WHERE endpoint_id = ANY(\(endpoints)) AND status IN ('pending', 'sending')", logger
            ).first?.get(0, as: Int.self) ?? 0
            let plan = try TenantRemoval(tenant: id, endpoints: endpoints.count, activeDeliveries: active, force: force)
            try await connection.run("DELETE FROM endpoint WHERE tenant = \(id)", logger)
            try await connection.run("DELETE FROM event WHERE tenant = \(id)", logger)
            try await connection.run("DELETE FROM tenant WHERE id = \(id)", logger)
            var entry = audit
            entry.detail = plan.auditDetail
            try await Self.insertAudit(entry, on: connection, logger)
            return plan.endpoints
        }
    }

    static func fetchTenant(_ id: String, lock: Bool, on connection: PostgresConnection, _ logger: Logger) async throws -> Tenant? {
        try await connection.rows(
            "SELECT \(unescaped: Self.tenantColumns) FROM tenant WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")", logger
        ).first.map(Self.tenant)
    }
}
