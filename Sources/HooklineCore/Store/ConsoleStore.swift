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
    /// endpoints of `window` (those that need an operator first, see ``EndpointWindow``), the
    /// newest events and `failed` deliveries, and attempts per minute since `since` (oldest first).
    func consoleFrame(eventsLimit: Int, failedLimit: Int, since: Date, endpoints window: EndpointWindow) async throws(HooklineError) -> ConsoleFrame
    /// A number that changes whenever any process commits to the store (cheap change detection).
    func changeToken() async throws(HooklineError) -> Int64
}

extension ConsoleStore {
    /// A console frame with the default window of endpoints.
    public func consoleFrame(eventsLimit: Int, failedLimit: Int, since: Date) async throws(HooklineError) -> ConsoleFrame {
        try await consoleFrame(eventsLimit: eventsLimit, failedLimit: failedLimit, since: since, endpoints: EndpointWindow())
    }
}
