import Foundation

/// What the console, the listings and the metrics read: deliveries and attempts, counts, a
/// consistent frame, and a cheap token that says whether anything changed.
public protocol ConsoleStore: Sendable {
    // MARK: Deliveries

    /// The delivery with this id, or nil.
    func delivery(id: String) async throws(HooklineError) -> Delivery?
    /// Deliveries, newest first.
    func deliveries(_ query: DeliveryQuery) async throws(HooklineError) -> [Delivery]
    /// How many deliveries have this status, optionally for one endpoint.
    func countDeliveries(status: DeliveryStatus, endpointID: String?) async throws(HooklineError) -> Int
    /// The attempts of a delivery, first one first.
    func attempts(deliveryID: String) async throws(HooklineError) -> [Attempt]

    // MARK: Console

    /// How many deliveries are pending, failed and held.
    func deliveryCounts() async throws(HooklineError) -> DeliveryCounts
    /// An endpoint's newest attempts.
    func recentAttempts(endpointID: String, limit: Int) async throws(HooklineError) -> [Attempt]
    /// Everything one console frame shows, read in one transaction (one consistent snapshot): the
    /// endpoints of the query's window (those that need an operator first, see ``EndpointWindow``),
    /// the newest events, failed deliveries and attempts, and attempts per minute and per second.
    func consoleFrame(_ query: ConsoleFrameQuery) async throws(HooklineError) -> ConsoleFrame
    /// Deliveries by status and endpoint now, attempts with their success rate and latency
    /// percentiles since the query's time, breakers that are not closed and the oldest pending
    /// delivery, for one tenant or all, read in one transaction.
    func stats(_ query: StatsQuery, now: Date) async throws(HooklineError) -> DeliveryStats
    /// A number that changes whenever any process commits to the store (cheap change detection).
    func changeToken() async throws(HooklineError) -> Int64
}

extension HooklineStore {
    /// The most endpoints a tenant's page of deliveries is merged from, one indexed page each.
    public static var mergedEndpointsLimit: Int { 64 }

    /// A page of deliveries, newest first, as the management API lists them. A tenant with few
    /// endpoints has its page merged from a page of each endpoint (each a seek on
    /// `delivery(endpoint_id, id)`); one with many is walked in id order and filtered. Either way
    /// the cost follows the page, not the deliveries the tenant has.
    public func deliveryPage(_ query: DeliveryQuery) async throws(HooklineError) -> [Delivery] {
        guard let tenant = query.tenant, query.endpointID == nil else { return try await deliveries(query) }
        let endpoints = try await self.endpoints(EndpointQuery(tenant: tenant, limit: Self.mergedEndpointsLimit + 1))
        guard endpoints.count <= Self.mergedEndpointsLimit else { return try await deliveries(query) }
        var merged: [Delivery] = []
        for endpoint in endpoints {
            var one = query
            one.tenant = nil
            one.endpointID = endpoint.id
            merged += try await deliveries(one)
        }
        // Delivery ids are ULIDs of their creation time: newest first is descending id order.
        return Array(merged.sorted { $0.id > $1.id }.prefix(query.limit))
    }
}

extension ConsoleStore {
    /// A console frame without attempts or per-second activity.
    public func consoleFrame(eventsLimit: Int, failedLimit: Int, since: Date, endpoints window: EndpointWindow = EndpointWindow()) async throws(HooklineError) -> ConsoleFrame {
        try await consoleFrame(ConsoleFrameQuery(eventsLimit: eventsLimit, failedLimit: failedLimit, statsSince: since, endpoints: window))
    }
}
