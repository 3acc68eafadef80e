import HooklineCore
import Hummingbird

/// `/v1/deliveries`: list (by tenant, endpoint, event, status), one delivery with its attempts,
/// and redelivery.
struct DeliveryRoutes {
    let api: ManagementAPI

    var collection: RouteCollection<APIContext> {
        let routes = RouteCollection(context: APIContext.self)
        let api = self.api
        routes.get("/v1/deliveries") { request, context in
            await ManagementAPI.answer {
                let tenant = try ManagementAPI.listingTenant(request, context)
                let query = request.uri.queryParameters
                var filter = DeliveryQuery(tenant: tenant)
                if let status = query.get("status") {
                    guard let parsed = DeliveryStatus(rawValue: status) else {
                        let names = DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", ")
                        throw HooklineError.invalidField(field: "status", sentence: "status is '\(status)'; it must be one of \(names).")
                    }
                    filter.status = parsed
                }
                if let endpoint = query.get("endpoint") {
                    try HooklineError.naming("endpoint") { () throws(HooklineError) in
                        try Identifier.validate(endpoint, prefix: Identifier.endpointPrefix, kind: "endpoint")
                    }
                    filter.endpointID = endpoint
                }
                if let event = query.get("event") {
                    try HooklineError.naming("event") { () throws(HooklineError) in
                        try Identifier.validate(event, prefix: Identifier.eventPrefix, kind: "event")
                    }
                    filter.eventID = event
                }
                let page = try PageRequest(request)
                filter.before = page.afterID
                filter.limit = page.limit
                let deliveries = try await api.acting(context).store.deliveryPage(filter)
                let tenants = try await Self.tenants(of: deliveries, known: tenant, api.acting(context).store)
                return APIResponse.page(
                    deliveries.map { JSONRendering.delivery($0, tenant: tenants[$0.endpointID] ?? Tenant.defaultID) },
                    next: page.next(deliveries) { PageKey(createdAt: $0.createdAt, id: $0.id) })
            }
        }
        routes.get("/v1/deliveries/{id}") { _, context in
            await ManagementAPI.answer {
                let (delivery, tenant) = try await api.visibleDelivery(ManagementAPI.parameter(context, "id"), context)
                let detail = try await api.acting(context).deliveryDetail(id: delivery.id)
                guard case .object(var object) = JSONRendering.delivery(detail.delivery, tenant: tenant) else { return APIResponse.json(.ok, .null) }
                object["event_type"] = .string(detail.event.type)
                // The custom headers every attempt sends (credential-like values masked).
                object["headers"] = JSONRendering.headers(detail.endpoint?.headers ?? [], reveal: false)
                object["attempt_list"] = .array(detail.attempts.map(JSONRendering.attempt))
                return APIResponse.json(.ok, .object(object))
            }
        }
        routes.post("/v1/deliveries/{id}/redeliver") { request, context in
            await ManagementAPI.answer {
                let (delivery, _) = try await api.visibleDelivery(ManagementAPI.parameter(context, "id"), context)
                var request = request
                _ = try await ManagementAPI.fields(&request, [], emptyAllowed: true)
                let result = try await api.acting(context).redeliver([delivery.id])
                if let skip = result.skipped.first {
                    return APIResponse.error(.conflict, "Delivery \(skip.id) was not redelivered: \(skip.reason).")
                }
                return APIResponse.json(.accepted, JSONRendering.redelivery(result))
            }
        }
        return routes
    }

    /// The tenant of each delivery's endpoint: the listing's own when it has one, else read once per page.
    static func tenants(of deliveries: [Delivery], known: String?, _ store: any HooklineStore) async throws(HooklineError) -> [String: String] {
        let ids = Array(Set(deliveries.map(\.endpointID)))
        if let known { return Dictionary(uniqueKeysWithValues: ids.map { ($0, known) }) }
        return Dictionary(try await store.endpoints(ids: ids).map { ($0.id, $0.tenant) }, uniquingKeysWith: { first, _ in first })
    }
}
