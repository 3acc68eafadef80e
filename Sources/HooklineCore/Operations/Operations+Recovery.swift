import Foundation

extension Operations {
    /// Makes deliveries due now for a manual attempt, whatever their state (except in flight).
    ///
    /// The event id stays the same, so receivers can de-duplicate.
    ///
    /// - Parameter tenant: only deliveries to this tenant's endpoints; the others are refused as
    ///   if they did not exist.
    public func redeliver(_ deliveryIDs: [String], tenant: String? = nil) async throws(HooklineError) -> RedeliveryResult {
        guard !deliveryIDs.isEmpty else {
            throw .invalidInput("Name at least one delivery id (dlv_…) to redeliver.")
        }
        for id in deliveryIDs {
            try Identifier.validate(id, prefix: Identifier.deliveryPrefix, kind: "delivery")
        }
        if let tenant {
            _ = try await self.tenant(id: tenant)
            for id in deliveryIDs {
                guard let delivery = try await store.delivery(id: id),
                      try await store.endpoint(id: delivery.endpointID)?.tenant == tenant else {
                    throw .notFound(kind: "delivery of tenant \(tenant)", id: id)
                }
            }
        }
        let result = try await store.redeliver(
            deliveryIDs, onlyIfStatus: nil, at: clock.now(), audit: audit("delivery.redeliver", deliveryIDs))
        if result.requeued.isEmpty, let first = result.skipped.first {
            if first.reason == "no such delivery" { throw .notFound(kind: "delivery", id: first.id) }
            if first.reason == RedeliveryPlan.redactedReason {
                throw .conflict("The delivery \(first.id) cannot be sent again: \(first.reason).")
            }
        }
        logger.info("deliveries redelivered", metadata: ["deliveries.count": "\(result.requeued.count)", "audit.actor": "\(actor.rawValue)"])
        return result
    }

    /// The ids of an endpoint's failed deliveries since a time: what ``recoverFailed(endpointID:ids:)``
    /// will act on, for a preview the operator confirms.
    ///
    /// - Parameter tenant: the tenant the endpoint must belong to, when given.
    public func failedDeliveries(endpointID: String, since: Date?, tenant: String? = nil) async throws(HooklineError) -> [String] {
        let endpoint = try await endpoint(id: endpointID)
        if let tenant, endpoint.tenant != tenant {
            _ = try await self.tenant(id: tenant)
            throw .notFound(kind: "endpoint of tenant \(tenant)", id: endpointID)
        }
        return try await store.failedDeliveryIDs(endpointID: endpointID, since: since)
    }

    /// Redelivers exactly the previewed failed deliveries that are still failed.
    public func recoverFailed(endpointID: String, ids: [String]) async throws(HooklineError) -> RedeliveryResult {
        guard !ids.isEmpty else { return RedeliveryResult(requeued: [], skipped: []) }
        let result = try await store.redeliver(
            ids, onlyIfStatus: .failed, at: clock.now(),
            audit: audit("endpoint.recover", [endpointID], "\(ids.count) failed deliveries counted"))
        logger.info("failed deliveries recovered", metadata: ["endpoint.id": "\(endpointID)", "deliveries.count": "\(result.requeued.count)"])
        return result
    }

    /// Closes an endpoint's breaker; the deliveries it held back become due now.
    public func resetBreaker(endpointID: String) async throws(HooklineError) -> CircuitBreaker {
        try Identifier.validate(endpointID, prefix: Identifier.endpointPrefix, kind: "endpoint")
        let breaker = try await store.resetBreaker(endpointID: endpointID, at: clock.now(), audit: audit("breaker.reset", [endpointID]))
        logger.info("breaker reset", metadata: ["endpoint.id": "\(endpointID)", "audit.actor": "\(actor.rawValue)"])
        return breaker
    }

    /// Endpoints with their breakers and health over the last hour, in id order after `after`, at
    /// most `limit` (a page of a listing); only `tenant`'s when given.
    public func endpointOverview(
        after: String? = nil, limit: Int = 10_000, tenant: String? = nil, window: TimeInterval = 3600
    ) async throws(HooklineError) -> [EndpointOverview] {
        if let after { try Identifier.validate(after, prefix: Identifier.endpointPrefix, kind: "endpoint") }
        if let tenant { _ = try await self.tenant(id: tenant) }
        let endpoints = try await store.endpoints(EndpointQuery(tenant: tenant, after: after, limit: limit))
        return EndpointOverview.combine(
            endpoints: endpoints, breakers: try await store.breakers(endpointIDs: endpoints.map(\.id), orNotClosed: false),
            stats: try await store.endpointStats(since: clock.now().addingTimeInterval(-window)))
    }

    /// One endpoint with its breaker and health over the last hour.
    public func endpointOverview(id: String, window: TimeInterval = 3600) async throws(HooklineError) -> EndpointOverview {
        let endpoint = try await self.endpoint(id: id)
        return EndpointOverview.combine(
            endpoints: [endpoint], breakers: try await store.breakers(endpointIDs: [endpoint.id], orNotClosed: false),
            stats: try await store.endpointStats(since: clock.now().addingTimeInterval(-window)))[0]
    }
}

/// An endpoint as listings show it: settings, breaker and recent health.
public struct EndpointOverview: Sendable, Hashable {
    public var endpoint: Endpoint
    public var breaker: CircuitBreaker
    public var stats: EndpointStats

    /// One overview per endpoint; a closed breaker and no attempts where the store has none.
    static func combine(endpoints: [Endpoint], breakers: [CircuitBreaker], stats: [String: EndpointStats]) -> [EndpointOverview] {
        let byEndpoint = Dictionary(uniqueKeysWithValues: breakers.map { ($0.endpointID, $0) })
        return endpoints.map {
            EndpointOverview(
                endpoint: $0, breaker: byEndpoint[$0.id] ?? CircuitBreaker(endpointID: $0.id),
                stats: stats[$0.id] ?? EndpointStats(attempts: 0, successes: 0, p95LatencyMs: nil))
        }
    }
}
