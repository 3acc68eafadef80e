/// Whether a tenant may be removed, decided once for both stores from what they count in the
/// removal's transaction: never the default tenant, never while one of its deliveries is pending
/// or sending, and with endpoints only when forced.
public struct TenantRemoval: Sendable, Hashable {
    public var tenant: String
    /// Endpoints that go with the tenant.
    public var endpoints: Int

    public init(tenant: String, endpoints: Int, activeDeliveries: Int, force: Bool) throws(HooklineError) {
        guard tenant != Tenant.defaultID else {
            throw .conflict("The tenant 'default' holds every endpoint given no tenant and cannot be removed.")
        }
        guard activeDeliveries == 0 else {
            throw .conflict(
                "Tenant \(tenant) has \(activeDeliveries) deliveries pending or sending; disable its endpoints and let them finish, or wait, before removing it.")
        }
        guard endpoints == 0 || force else {
            throw .conflict("Tenant \(tenant) has \(endpoints) endpoints; remove them first, or force the removal to remove them with it.")
        }
        self.tenant = tenant
        self.endpoints = endpoints
    }

    /// What the audit entry says was removed.
    public var auditDetail: String { "removed with \(endpoints) endpoints" }
}
