import Foundation

/// Everything Hookline keeps, behind one seam, so that another database can stand in for SQLite.
///
/// Every method is one transaction: a crash leaves either all of a change or none of it.
/// Mutations that an operator makes carry an ``AuditEntry`` that is written in the same transaction.
public protocol HooklineStore: Sendable {
    /// Where the data lives, for headers and messages (a path or a connection string without secrets).
    var location: String { get }

    // MARK: Endpoints

    /// Adds a new endpoint.
    func createEndpoint(_ endpoint: Endpoint, audit: AuditEntry) async throws(HooklineError)
    /// The endpoint with this id, or nil.
    func endpoint(id: String) async throws(HooklineError) -> Endpoint?
    /// Every endpoint, oldest first.
    func endpoints() async throws(HooklineError) -> [Endpoint]
    /// Changes an endpoint's settings (url, description, event types, rate limit) in one transaction.
    ///
    /// `change` runs inside the transaction on the current row; throwing from it changes nothing.
    func updateEndpoint(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Endpoint) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Endpoint
    /// Enables or disables an endpoint and moves its deliveries between `pending` and `held`.
    ///
    /// Disabling holds every `pending` delivery. Enabling releases the `held` ones (due at once)
    /// unless `releaseHeld` is false.
    func setEndpointEnabled(
        id: String, enabled: Bool, reason: String?, releaseHeld: Bool, at: Date, audit: AuditEntry
    ) async throws(HooklineError) -> EndpointStateChange
    /// Deletes an endpoint with its deliveries and their attempts; events stay.
    ///
    /// Refuses while the endpoint has deliveries that are not `succeeded`, unless `force`.
    func removeEndpoint(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError)

    // MARK: Events

    /// Stores an event and one delivery per subscribed endpoint, or returns the stored event when
    /// its id exists already (idempotency: nothing is created then).
    func ingest(_ event: Event, audit: AuditEntry?) async throws(HooklineError) -> IngestResult
    /// The event with this id, with its delivery count, or nil.
    func event(id: String) async throws(HooklineError) -> EventSummary?
    /// Events, newest first.
    func events(_ query: EventQuery) async throws(HooklineError) -> [EventSummary]

    // MARK: Deliveries

    /// The delivery with this id, or nil.
    func delivery(id: String) async throws(HooklineError) -> Delivery?
    /// Deliveries, newest first.
    func deliveries(_ query: DeliveryQuery) async throws(HooklineError) -> [Delivery]
    /// The attempts of a delivery, first one first.
    func attempts(deliveryID: String) async throws(HooklineError) -> [Attempt]

    // MARK: Audit

    /// The newest audit entries first.
    func auditEntries(limit: Int) async throws(HooklineError) -> [AuditEntry]
}

/// What ``HooklineStore/ingest(_:audit:)`` did.
public enum IngestResult: Sendable, Hashable {
    /// The event is new; `deliveries` were made for it.
    case created(EventSummary)
    /// An event with that id was stored before; this is it, and nothing was created.
    case existing(EventSummary)

    /// The stored event and its delivery count, whichever case.
    public var summary: EventSummary {
        switch self {
        case .created(let summary), .existing(let summary): return summary
        }
    }

    /// Whether the call created the event.
    public var wasCreated: Bool {
        if case .created = self { return true }
        return false
    }
}

/// The result of enabling or disabling an endpoint.
public struct EndpointStateChange: Sendable, Hashable {
    public var endpoint: Endpoint
    /// Deliveries moved to `held` (on disable) or released to `pending` (on enable).
    public var movedDeliveries: Int

    public init(endpoint: Endpoint, movedDeliveries: Int) {
        self.endpoint = endpoint
        self.movedDeliveries = movedDeliveries
    }
}

/// Which events to list.
public struct EventQuery: Sendable, Hashable {
    public var type: String?
    public var limit: Int

    public init(type: String? = nil, limit: Int = 50) {
        self.type = type
        self.limit = limit
    }
}

/// Which deliveries to list.
public struct DeliveryQuery: Sendable, Hashable {
    public var status: DeliveryStatus?
    public var endpointID: String?
    public var eventID: String?
    public var limit: Int

    public init(status: DeliveryStatus? = nil, endpointID: String? = nil, eventID: String? = nil, limit: Int = 50) {
        self.status = status
        self.endpointID = endpointID
        self.eventID = eventID
        self.limit = limit
    }
}
