import HooklineCore
import Hummingbird

/// `/v1/tenants`: create, list, show, change and remove tenants.
struct TenantRoutes {
    let api: ManagementAPI

    var collection: RouteCollection<APIContext> {
        let routes = RouteCollection(context: APIContext.self)
        let api = self.api
        routes.post("/v1/tenants") { request, context in
            await ManagementAPI.answer {
                try ManagementAPI.requireAdmin(context, "create tenants")
                var request = request
                let body = try await ManagementAPI.fields(&request, ["id", "name", "metadata"])
                guard let id = try body.string("id", "the tenant's id, your own customer id") else {
                    throw HooklineError.invalidField(field: "id", sentence: "'id' is required: the tenant's id, such as your own customer id.")
                }
                let name = try body.string("name", "the tenant's display name")
                let metadata = try Self.metadata(body) ?? [:]
                let operations = api.acting(context)
                let (tenant, repeated) = try await operations.idempotently(
                    key: ManagementAPI.idempotencyKey(request), scope: ManagementAPI.idempotencyScope(context), request: body.fingerprint("POST /v1/tenants"),
                    create: { () throws(HooklineError) in
                        let tenant = try await operations.addTenant(id: id, name: name, metadata: metadata)
                        return (tenant, tenant.id)
                    },
                    original: { id throws(HooklineError) in try await operations.tenant(id: id) })
                return APIResponse.json(repeated ? .ok : .created, JSONRendering.tenant(tenant))
            }
        }
        routes.get("/v1/tenants") { request, context in
            await ManagementAPI.answer {
                try ManagementAPI.requireAdmin(context, "list tenants")
                let page = try PageRequest(request)
                let tenants = try await api.acting(context).tenants(TenantQuery(order: .newestFirst(before: page.after), limit: page.limit))
                return APIResponse.page(tenants.map(JSONRendering.tenant), next: page.next(tenants) { PageKey(createdAt: $0.createdAt, id: $0.id) })
            }
        }
        routes.get("/v1/tenants/{tenant}") { _, context in
            await ManagementAPI.answer {
                APIResponse.json(.ok, JSONRendering.tenant(try await api.visibleTenant(ManagementAPI.parameter(context, "tenant"), context)))
            }
        }
        routes.patch("/v1/tenants/{tenant}") { request, context in
            await ManagementAPI.answer {
                let id = ManagementAPI.parameter(context, "tenant")
                _ = try await api.visibleTenant(id, context)
                var request = request
                let body = try await ManagementAPI.fields(&request, ["name", "metadata"])
                let tenant = try await api.acting(context).updateTenant(
                    id: id, name: try body.string("name", "the tenant's display name"), metadata: try Self.metadata(body))
                return APIResponse.json(.ok, JSONRendering.tenant(tenant))
            }
        }
        routes.post("/v1/tenants/{tenant}/erase") { request, context in
            await ManagementAPI.answer {
                let tenant = try await api.visibleTenant(ManagementAPI.parameter(context, "tenant"), context)
                var request = request
                _ = try await ManagementAPI.fields(&request, [], emptyAllowed: true)
                let report = try await api.acting(context).eraseTenant(tenant.id)
                return APIResponse.json(.ok, JSONRendering.redaction(report, tenant: tenant.id))
            }
        }
        routes.delete("/v1/tenants/{tenant}") { request, context in
            await ManagementAPI.answer {
                try ManagementAPI.requireAdmin(context, "remove tenants")
                let id = ManagementAPI.parameter(context, "tenant")
                let force = try ManagementAPI.flag(request, "force")
                let removed = try await api.acting(context).removeTenant(id: id, force: force)
                return APIResponse.json(.ok, .object(JSONObject([
                    ("id", .string(id)), ("removed", .bool(true)), ("endpoints_removed", .number(Double(removed))),
                ])))
            }
        }
        return routes
    }

    /// `metadata`: an object of strings, checked by the core's rule.
    static func metadata(_ body: JSONFields) throws(HooklineError) -> [String: String]? {
        guard let pairs = try body.stringMap("metadata", "the tenant's own keys and values") else { return nil }
        let metadata = Dictionary(pairs, uniquingKeysWith: { _, last in last })
        try HooklineError.naming("metadata") { () throws(HooklineError) in try Tenant.validate(metadata: metadata) }
        return metadata
    }
}

extension ManagementAPI {
    /// A `?name=true|false` query parameter; absent is false.
    static func flag(_ request: Request, _ name: String) throws(HooklineError) -> Bool {
        guard let text = request.uri.queryParameters.get(name) else { return false }
        switch text.lowercased() {
        case "true", "1", "": return true
        case "false", "0": return false
        default: throw .invalidField(field: name, sentence: "\(name) is '\(text)'; it must be true or false.")
        }
    }
}
