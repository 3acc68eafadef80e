import Crypto
import HooklineCore
import Hummingbird

/// Checks `Authorization: Bearer TOKEN` on every route but those left open, and puts the principal
/// in the context: the admin token, compared in constant time, or a tenant token the resolver knows.
struct BearerAuthentication: RouterMiddleware {
    typealias Context = APIContext

    /// Finds the tenant token with this value, or nil.
    typealias TenantTokenResolver = @Sendable (String) async throws(HooklineError) -> APIPrincipal?

    /// The admin token; nil when authentication is off (every request is the admin's).
    let adminToken: String?
    let resolveTenantToken: TenantTokenResolver
    /// Paths answered without a token (health checks, metrics scrapes).
    let openPaths: Set<String>

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        guard let adminToken else { return try await next(request, context) }
        var context = context
        guard let presented = Self.bearerToken(request.headers[.authorization]) else {
            return Self.unauthorized()
        }
        if Self.equalInConstantTime(presented, adminToken) {
            context.principal = .admin
        } else {
            let resolved: APIPrincipal?
            do {
                resolved = try await resolveTenantToken(presented)
            } catch {
                return APIResponse.error(.serviceUnavailable, "The token could not be checked (\(error)); retry in a moment.")
            }
            guard let resolved else { return Self.unauthorized() }
            context.principal = resolved
        }
        return try await next(request, context)
    }

    /// The token of `Bearer TOKEN`; the scheme is case-insensitive (RFC 9110, section 11.1).
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Compares the SHA-256 digests of both, so that the time taken says nothing about either.
    static func equalInConstantTime(_ presented: String, _ expected: String) -> Bool {
        let a = SHA256.hash(data: Array(presented.utf8))
        let b = SHA256.hash(data: Array(expected.utf8))
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    static func unauthorized() -> Response {
        var response = APIResponse.error(.unauthorized, "Send a valid token as 'Authorization: Bearer TOKEN'.")
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}
