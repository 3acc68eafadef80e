import HooklineCore
import Hummingbird

/// `/v1/events` (list, one event with its deliveries, redaction) and `/v1/event-types` (the catalog). The
/// ingest routes `POST /v1/events` and `/v1/events/batch` are ``IngestAPI``'s.
struct EventRoutes {
    let api: ManagementAPI

    var collection: RouteCollection<APIContext> {
        let routes = RouteCollection(context: APIContext.self)
        let api = self.api
        routes.get("/v1/event-types") { _, _ in
            APIResponse.page(EventCatalog.all.map(JSONRendering.eventType), next: nil)
        }
        routes.get("/v1/events") { request, context in
            await ManagementAPI.answer {
                let tenant = try ManagementAPI.listingTenant(request, context)
                let type = request.uri.queryParameters.get("type")
                if let type { try HooklineError.naming("type") { () throws(HooklineError) in _ = try EventCatalog.requireKnown(type) } }
                let page = try PageRequest(request)
                let events = try await api.acting(context).store.events(EventQuery(type: type, tenant: tenant, before: page.after, limit: page.limit))
                return APIResponse.page(
                    events.map(JSONRendering.event), next: page.next(events) { PageKey(createdAt: $0.event.createdAt, id: $0.event.id) })
            }
        }
        routes.get("/v1/events/{id}") { _, context in
            await ManagementAPI.answer {
                let summary = try await api.visibleEvent(ManagementAPI.parameter(context, "id"), context)
                let detail = try await api.acting(context).eventDetail(id: summary.event.id)
                guard case .object(var object) = JSONRendering.event(detail.summary) else { return APIResponse.json(.ok, .null) }
                object["payload"] = (try? JSONValue.parse(detail.summary.event.payload)) ?? .null
                object["delivery_list"] = .array(detail.deliveries.map { JSONRendering.delivery($0, tenant: summary.event.tenant) })
                return APIResponse.json(.ok, .object(object))
            }
        }
        routes.post("/v1/events/{id}/redact") { request, context in
            await ManagementAPI.answer {
                let summary = try await api.visibleEvent(ManagementAPI.parameter(context, "id"), context)
                var request = request
                _ = try await ManagementAPI.fields(&request, [], emptyAllowed: true)
                let report = try await api.acting(context).redactEvents([summary.event.id])
                return APIResponse.json(.ok, JSONRendering.redaction(report, tenant: nil))
            }
        }
        return routes
    }
}
