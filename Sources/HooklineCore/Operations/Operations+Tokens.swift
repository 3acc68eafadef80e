import Foundation

extension Operations {
    // MARK: Tenant tokens

    /// Issues a token that sees and changes only `tenant`; its value is in the result only.
    public func issueToken(tenant: String) async throws(HooklineError) -> IssuedToken {
        _ = try await self.tenant(id: tenant)
        let now = clock.now()
        let token = APIToken(id: APIToken.idPrefix + Identifier.ulid(at: now), tenant: tenant, createdAt: now)
        let value = APIToken.generateValue()
        try await store.createToken(token, digest: APIToken.digest(value), audit: audit("token.issue", [token.id, tenant]))
        logger.info("token issued", metadata: ["tenant.id": "\(tenant)", "token.id": "\(token.id)"])
        return IssuedToken(token: token, value: value)
    }

    /// A tenant's tokens, revoked ones included, oldest first.
    public func tokens(tenant: String) async throws(HooklineError) -> [APIToken] {
        _ = try await self.tenant(id: tenant)
        return try await store.tokens(tenant: tenant)
    }

    /// Revokes one of a tenant's tokens: it authenticates nothing from now on.
    public func revokeToken(tenant: String, id: String) async throws(HooklineError) -> APIToken {
        try Tenant.validate(id: tenant)
        try APIToken.validate(id: id)
        let token = try await store.revokeToken(id: id, tenant: tenant, at: clock.now(), audit: audit("token.revoke", [id, tenant]))
        logger.info("token revoked", metadata: ["tenant.id": "\(tenant)", "token.id": "\(id)"])
        return token
    }

    /// The live token with this value, or nil (unknown or revoked).
    public func authenticate(tokenValue: String) async throws(HooklineError) -> APIToken? {
        guard tokenValue.hasPrefix(APIToken.valuePrefix) else { return nil }
        guard let token = try await store.token(digest: APIToken.digest(tokenValue)), token.revokedAt == nil else { return nil }
        return token
    }

    /// The same operations, acting as someone else (each API request as its token).
    public func acting(as actor: AuditActor) -> Operations {
        var copy = self
        copy.actor = actor
        return copy
    }
}
