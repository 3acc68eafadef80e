import Foundation
import HooklineCore
import Hummingbird

/// A tenant's endpoints: `/v1/tenants/{tenant}/endpoints` and `/v1/endpoints/{id}` with its actions
/// (enable, disable, rotate-secret, test, breaker reset, recover).
struct EndpointRoutes {
    let api: ManagementAPI

    static let settingFields = ["url", "events", "description", "rate_limit", "headers"]

    var collection: RouteCollection<APIContext> {
        let routes = RouteCollection(context: APIContext.self)
        let api = self.api
        routes.post("/v1/tenants/{tenant}/endpoints") { request, context in
            await ManagementAPI.answer {
                let tenant = try await api.visibleTenant(ManagementAPI.parameter(context, "tenant"), context)
                var request = request
                let body = try await ManagementAPI.fields(&request, Self.settingFields + ["secret"])
                let change = try Self.change(body)
                guard let url = change.url else {
                    throw HooklineError.invalidField(field: "url", sentence: "'url' is required: the receiver's https URL.")
                }
                let secret = try body.string("secret", "a signing secret of your own, or none to have one generated")
                if let secret { try HooklineError.naming("secret") { () throws(HooklineError) in try Secret.validate(secret) } }
                let operations = api.acting(context)
                // A repeat shows the secret again: the same caller lost the first answer, which had it.
                let (endpoint, repeated) = try await operations.idempotently(
                    key: ManagementAPI.idempotencyKey(request), scope: tenant.id,
                    request: body.fingerprint("POST /v1/tenants/\(tenant.id)/endpoints"),
                    create: { () throws(HooklineError) in
                        let endpoint = try await operations.addEndpoint(
                            url: url, eventTypes: change.eventTypes ?? .all, secret: secret, description: change.description ?? "",
                            rateLimit: change.rateLimit ?? nil, tenant: tenant.id, headers: change.headers ?? [])
                        return (endpoint, endpoint.id)
                    },
                    original: { id throws(HooklineError) in try await operations.endpoint(id: id) })
                return APIResponse.json(repeated ? .ok : .created, Self.render(endpoint, breaker: .closed, revealSecret: true))
            }
        }
        routes.get("/v1/tenants/{tenant}/endpoints") { request, context in
            await ManagementAPI.answer {
                let tenant = try await api.visibleTenant(ManagementAPI.parameter(context, "tenant"), context)
                let page = try PageRequest(request)
                let endpoints = try await api.acting(context).store.endpoints(
                    EndpointQuery(tenant: tenant.id, after: page.afterID, limit: page.limit, newestFirst: true))
                let breakers = try await api.acting(context).store.breakers(endpointIDs: endpoints.map(\.id), orNotClosed: false)
                let states = Dictionary(breakers.map { ($0.endpointID, $0.state) }, uniquingKeysWith: { first, _ in first })
                return APIResponse.page(
                    endpoints.map { Self.render($0, breaker: states[$0.id] ?? .closed, revealSecret: false) },
                    next: page.next(endpoints) { PageKey(createdAt: $0.createdAt, id: $0.id) })
            }
        }
        routes.get("/v1/endpoints/{id}") { _, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                return APIResponse.json(.ok, JSONRendering.overview(try await api.acting(context).endpointOverview(id: endpoint.id), revealSecret: false))
            }
        }
        routes.patch("/v1/endpoints/{id}") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                let change = try Self.change(try await ManagementAPI.fields(&request, Self.settingFields))
                guard !change.isEmpty else {
                    throw HooklineError.invalidField(field: "body", sentence: "The body changes nothing; send one or more of \(Self.settingFields.joined(separator: ", ")).")
                }
                let updated = try await api.acting(context).updateEndpoint(id: endpoint.id, change)
                return APIResponse.json(.ok, JSONRendering.overview(try await api.acting(context).endpointOverview(id: updated.id), revealSecret: false))
            }
        }
        routes.delete("/v1/endpoints/{id}") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                try await api.acting(context).removeEndpoint(id: endpoint.id, force: try ManagementAPI.flag(request, "force"))
                return APIResponse.json(.ok, .object(JSONObject([("id", .string(endpoint.id)), ("removed", .bool(true))])))
            }
        }
        routes.post("/v1/endpoints/{id}/enable") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                _ = try await ManagementAPI.fields(&request, [], emptyAllowed: true)
                return Self.stateChange(try await api.acting(context).enableEndpoint(id: endpoint.id), moved: "released")
            }
        }
        routes.post("/v1/endpoints/{id}/disable") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                let body = try await ManagementAPI.fields(&request, ["reason"], emptyAllowed: true)
                let reason = try body.string("reason", "why it is disabled, shown to operators")
                if let reason { try HooklineError.naming("reason") { () throws(HooklineError) in try EndpointSettings.validateDescription(reason) } }
                return Self.stateChange(try await api.acting(context).disableEndpoint(id: endpoint.id, reason: reason), moved: "held")
            }
        }
        routes.post("/v1/endpoints/{id}/rotate-secret") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                let body = try await ManagementAPI.fields(&request, ["grace", "secret"], emptyAllowed: true)
                let grace = try Self.duration(body, "grace") ?? 86_400
                let secret = try body.string("secret", "the new signing secret, or none to have one generated")
                if let secret { try HooklineError.naming("secret") { () throws(HooklineError) in try Secret.validate(secret) } }
                let rotated = try await ManagementAPI.fieldNamed("grace") { () throws(HooklineError) in
                    try await api.acting(context).rotateSecret(id: endpoint.id, secret: secret, grace: grace)
                }
                return APIResponse.json(.ok, Self.render(rotated, breaker: nil, revealSecret: true))
            }
        }
        routes.post("/v1/endpoints/{id}/test") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                let body = try await ManagementAPI.fields(&request, ["event"], emptyAllowed: true)
                let type = try body.string("event", "an event type of the catalog, such as case.created") ?? "case.created"
                try HooklineError.naming("event") { () throws(HooklineError) in _ = try EventCatalog.requireKnown(type) }
                guard let transport = api.testTransport else {
                    return APIResponse.error(.serviceUnavailable, "Test sends are off on this server; run it with a dispatcher to send them.")
                }
                let send = try await api.acting(context).sendTest(endpointID: endpoint.id, eventType: type, transport: transport)
                return APIResponse.json(.ok, JSONRendering.testSend(send))
            }
        }
        routes.post("/v1/endpoints/{id}/breaker/reset") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                _ = try await ManagementAPI.fields(&request, [], emptyAllowed: true)
                return APIResponse.json(.ok, JSONRendering.breaker(try await api.acting(context).resetBreaker(endpointID: endpoint.id)))
            }
        }
        routes.post("/v1/endpoints/{id}/recover") { request, context in
            await ManagementAPI.answer {
                let endpoint = try await api.visibleEndpoint(ManagementAPI.parameter(context, "id"), context)
                var request = request
                let body = try await ManagementAPI.fields(&request, ["since", "dry_run"], emptyAllowed: true)
                var since: Date?
                if let text = try body.string("since", "a time like 2025-10-25T00:00:00Z or a duration back from now like 24h") {
                    guard let date = Timestamp.since(text, now: api.acting(context).clock.now()) else {
                        throw HooklineError.invalidField(field: "since", sentence: "'since' is '\(text)'; give a time like 2025-10-25T00:00:00Z or a duration like 24h.")
                    }
                    since = date
                }
                let ids = try await api.acting(context).failedDeliveries(endpointID: endpoint.id, since: since)
                if try body.bool("dry_run") == true {
                    return APIResponse.json(.ok, .object(JSONObject([("count", .number(Double(ids.count))), ("dry_run", .bool(true))])))
                }
                let result = ids.isEmpty ? RedeliveryResult(requeued: [], skipped: []) : try await api.acting(context).recoverFailed(endpointID: endpoint.id, ids: ids)
                return APIResponse.json(.ok, .object(JSONObject([
                    ("count", .number(Double(result.requeued.count))), ("dry_run", .bool(false)),
                    ("skipped", .number(Double(result.skipped.count))),
                ])))
            }
        }
        return routes
    }

    /// An endpoint as the API shows it: its settings and its breaker's state.
    static func render(_ endpoint: Endpoint, breaker: BreakerState?, revealSecret: Bool) -> JSONValue {
        guard case .object(var object) = JSONRendering.endpoint(endpoint, revealSecret: revealSecret) else { return .null }
        if let breaker { object["breaker"] = .string(breaker.rawValue) }
        return .object(object)
    }

    static func stateChange(_ change: EndpointStateChange, moved: String) -> Response {
        guard case .object(var object) = render(change.endpoint, breaker: nil, revealSecret: false) else { return APIResponse.json(.ok, .null) }
        object["deliveries_\(moved)"] = .number(Double(change.movedDeliveries))
        return APIResponse.json(.ok, .object(object))
    }

    /// The settings a body gives, each checked by the core and named when wrong.
    static func change(_ body: JSONFields) throws(HooklineError) -> EndpointChange {
        var change = EndpointChange()
        change.url = try body.string("url", "the receiver's https URL")
        if let types = try body.strings("events", "event types of the catalog, or \"*\" for all") {
            try HooklineError.naming("events") { () throws(HooklineError) in
                change.eventTypes = types.isEmpty ? .only([]) : try EventTypeSelection(types: types)
            }
        }
        change.description = try body.string("description", "a note for operators")
        if body.has("rate_limit") {
            change.rateLimit = .some(try body.number("rate_limit", "deliveries per second, or null for none"))
        }
        if let pairs = try body.stringMap("headers", "header names and the values sent with every attempt") {
            change.headers = pairs.map { EndpointHeader(name: $0.0, value: $0.1) }
        }
        try change.validate()
        return change
    }

    /// A duration given as seconds (a number) or as text such as `24h`.
    static func duration(_ body: JSONFields, _ key: String) throws(HooklineError) -> TimeInterval? {
        guard let value = body.object[key], value != .null else { return nil }
        switch value {
        case .number(let seconds) where seconds >= 0: return seconds
        case .string(let text):
            if let seconds = DurationText.parse(text) { return seconds }
        default: break
        }
        throw .invalidField(field: key, sentence: "'\(key)' must be a duration such as \"24h\" or a number of seconds.")
    }
}

extension ManagementAPI {
    /// Runs an operation whose input error (with no field of its own) concerns `name`.
    static func fieldNamed<T>(_ name: String, _ work: () async throws(HooklineError) -> T) async throws(HooklineError) -> T {
        do {
            return try await work()
        } catch {
            if case .invalidInput(let sentence) = error { throw .invalidField(field: name, sentence: sentence) }
            throw error
        }
    }
}
