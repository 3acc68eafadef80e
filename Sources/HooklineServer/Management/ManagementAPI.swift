import Foundation
import HooklineCore
import Hummingbird

/// The management API of a SaaS's dashboard: tenants, their endpoints, events, deliveries and
/// attempts, each resource a `RouteCollection` over the one core ``Operations``, so that the API
/// refuses exactly what the CLI and the console refuse.
///
/// A tenant token sees only its tenant: any other tenant's resource answers 404, exactly as one
/// that does not exist.
public struct ManagementAPI: Sendable {
    let operations: Operations
    /// What `POST /v1/endpoints/{id}/test` sends with; nil answers that test sends are off.
    let testTransport: (any HTTPTransport)?

    public init(operations: Operations, testTransport: (any HTTPTransport)?) {
        self.operations = operations
        self.testTransport = testTransport
    }

    /// Adds every management route to `router`.
    public func register(on router: Router<APIContext>) {
        router.addRoutes(TenantRoutes(api: self).collection)
        router.addRoutes(EndpointRoutes(api: self).collection)
        router.addRoutes(EventRoutes(api: self).collection)
        router.addRoutes(DeliveryRoutes(api: self).collection)
    }

    // MARK: Answers

    /// Runs a route's work; a core error or a refusal becomes its response.
    static func answer(_ work: () async throws -> Response) async -> Response {
        do {
            return try await work()
        } catch let refusal as JSONRequest.Refusal {
            return refusal.response
        } catch let error as HooklineError {
            return APIResponse.failure(error)
        } catch {
            return APIResponse.error(.internalServerError, "The request failed unexpectedly (\(error)); retry it, and report it if it persists.")
        }
    }

    /// The body's fields, or a refusal thrown.
    static func fields(_ request: inout Request, _ names: [String], emptyAllowed: Bool = false) async throws -> JSONFields {
        switch await JSONRequest.object(&request, fields: names, emptyAllowed: emptyAllowed) {
        case .success(let fields): return fields
        case .failure(let refusal): throw refusal
        }
    }

    /// The request's `Idempotency-Key`, if it sent one.
    static func idempotencyKey(_ request: Request) -> String? {
        request.headers[IngestAPI.idempotencyKeyField]
    }

    /// Whose keys a request's key is among: its tenant token's tenant, or the admin's own space
    /// (no tenant id is empty).
    static func idempotencyScope(_ context: APIContext) -> String {
        context.principal.tenantScope ?? ""
    }

    /// A path parameter Hummingbird matched.
    static func parameter(_ context: APIContext, _ name: String) -> String {
        context.parameters.get(name) ?? ""
    }

    // MARK: Scope

    /// The operations acting as the request's token, so that the audit log names it.
    func acting(_ context: APIContext) -> Operations {
        operations.acting(as: context.principal.auditActor)
    }

    /// Refuses what only the admin token may do.
    static func requireAdmin(_ context: APIContext, _ what: String) throws {
        guard context.principal == .admin else {
            throw JSONRequest.Refusal(APIResponse.error(.forbidden, "A tenant token cannot \(what); use the admin token."))
        }
    }

    /// The tenant a listing is limited to: the token's own, or the admin's `?tenant=` if any. A
    /// tenant token naming another tenant finds nothing (404), as if it did not exist.
    static func listingTenant(_ request: Request, _ context: APIContext) throws(HooklineError) -> String? {
        let asked = request.uri.queryParameters.get("tenant")
        if let asked { try HooklineError.naming("tenant") { () throws(HooklineError) in try Tenant.validate(id: asked) } }
        guard let own = context.principal.tenantScope else { return asked }
        if let asked, asked != own { throw .notFound(kind: "tenant", id: asked) }
        return own
    }

    /// The tenant of a path, which must exist and be visible to the token.
    func visibleTenant(_ id: String, _ context: APIContext) async throws(HooklineError) -> Tenant {
        guard context.principal.sees(id) else { throw .notFound(kind: "tenant", id: id) }
        return try await operations.tenant(id: id)
    }

    /// The endpoint with this id if the token may see it; otherwise not found.
    func visibleEndpoint(_ id: String, _ context: APIContext) async throws(HooklineError) -> Endpoint {
        let endpoint = try await operations.endpoint(id: id)
        guard context.principal.sees(endpoint.tenant) else { throw .notFound(kind: "endpoint", id: id) }
        return endpoint
    }

    /// The event with this id if the token may see it; otherwise not found.
    func visibleEvent(_ id: String, _ context: APIContext) async throws(HooklineError) -> EventSummary {
        let summary = try await operations.event(id: id)
        guard context.principal.sees(summary.event.tenant) else { throw .notFound(kind: "event", id: id) }
        return summary
    }

    /// The delivery with this id and its endpoint's tenant, if the token may see it; otherwise not found.
    func visibleDelivery(_ id: String, _ context: APIContext) async throws(HooklineError) -> (Delivery, String) {
        let delivery = try await operations.delivery(id: id)
        let tenant = try await operations.store.endpoint(id: delivery.endpointID)?.tenant ?? Tenant.defaultID
        guard context.principal.sees(tenant) else { throw .notFound(kind: "delivery", id: id) }
        return (delivery, tenant)
    }
}
