import HooklineCore

/// Who a request to the API is from, as its bearer token says.
public enum APIPrincipal: Sendable, Hashable {
    /// The `--api-token`, or any request when authentication is off: may do everything.
    case admin
    /// A tenant token: sees and changes only this tenant's resources.
    case tenant(String, tokenID: String)

    /// The tenant every query is limited to, or nil for the admin (every tenant).
    public var tenantScope: String? {
        switch self {
        case .admin: nil
        case .tenant(let tenant, _): tenant
        }
    }

    /// Who the audit log says acted: the admin as `api`, a tenant token by its id.
    public var auditActor: AuditActor {
        switch self {
        case .admin: .api
        case .tenant(_, let tokenID): .token(tokenID)
        }
    }

    /// Whether a resource of `tenant` exists for this principal (a tenant token sees only its own).
    public func sees(_ tenant: String) -> Bool {
        tenantScope.map { $0 == tenant } ?? true
    }
}
