import Foundation

extension Operations {
    // MARK: Tenants

    /// Adds a tenant; its id is the producer's own customer id.
    public func addTenant(id: String, name: String? = nil, metadata: [String: String] = [:]) async throws(HooklineError) -> Tenant {
        try Tenant.validate(id: id)
        if let name { try Tenant.validate(name: name) }
        try Tenant.validate(metadata: metadata)
        let tenant = Tenant(id: id, name: name, metadata: metadata, createdAt: clock.now())
        try await store.createTenant(tenant, audit: audit("tenant.add", [id], tenant.name))
        logger.info("tenant added", metadata: ["tenant.id": "\(id)"])
        return tenant
    }

    /// The tenant with this id, or a not-found error.
    public func tenant(id: String) async throws(HooklineError) -> Tenant {
        try Tenant.validate(id: id)
        guard let tenant = try await store.tenant(id: id) else { throw .notFound(kind: "tenant", id: id) }
        return tenant
    }

    /// Up to `limit` tenants in id order, after `after` when given.
    public func tenants(after: String? = nil, limit: Int = 10_000) async throws(HooklineError) -> [Tenant] {
        if let after { try Tenant.validate(id: after) }
        return try await store.tenants(after: after, limit: limit)
    }

    /// The tenants a query selects (a page of the management API's newest-first listing).
    public func tenants(_ query: TenantQuery) async throws(HooklineError) -> [Tenant] {
        if case .id(let after?) = query.order { try Tenant.validate(id: after) }
        return try await store.tenants(query)
    }

    /// Changes a tenant's name or metadata (what is nil stays as it is).
    public func updateTenant(id: String, name: String? = nil, metadata: [String: String]? = nil) async throws(HooklineError) -> Tenant {
        try Tenant.validate(id: id)
        if let name { try Tenant.validate(name: name) }
        if let metadata { try Tenant.validate(metadata: metadata) }
        return try await store.updateTenant(id: id, audit: audit("tenant.update", [id])) { tenant in
            if let name { tenant.name = name }
            if let metadata { tenant.metadata = metadata }
        }
    }

    /// Removes a tenant with its events; with endpoints only when `force` (they go with it), and
    /// never while one of its deliveries is pending or sending. Returns the endpoints removed.
    @discardableResult
    public func removeTenant(id: String, force: Bool = false) async throws(HooklineError) -> Int {
        try Tenant.validate(id: id)
        let removed = try await store.removeTenant(id: id, force: force, audit: audit("tenant.remove", [id]))
        logger.info("tenant removed", metadata: ["tenant.id": "\(id)", "endpoints.removed": "\(removed)"])
        return removed
    }

    /// Refuses a tenant id that is malformed or names no tenant: tenants are created, never implied.
    /// The default tenant always exists and costs no read.
    func requireTenant(_ id: String) async throws(HooklineError) {
        guard id != Tenant.defaultID else { return }
        try Tenant.validate(id: id)
        guard try await store.tenant(id: id) != nil else { try unknownTenant(id) }
    }

    /// The refusal of a tenant id that names no tenant.
    func unknownTenant(_ id: String) throws(HooklineError) -> Never {
        throw .invalidField(field: "tenant", sentence: "There is no tenant '\(id)'; create it first (tenants are never created by an event or an endpoint).")
    }
}
