import Foundation

/// An accepted event: the envelope exactly as it is sent to every endpoint.
public struct Event: Sendable, Hashable {
    /// `evt_` + ULID, or the producer's own `evt_…` id; doubles as the idempotency key.
    public var id: String
    /// A catalog type such as `case.created`.
    public var type: String
    /// The canonical envelope bytes `{"event":…,"id":…,"timestamp":…,"data":…}`.
    public var payload: [UInt8]
    public var createdAt: Date
    /// The tenant whose endpoints the event fans out to.
    public var tenant: String
    /// When the payload was erased (`hookline event redact`, `tenant erase`); such an event keeps its
    /// id, type and timestamp, its data reads `"[redacted]"`, and it is never sent again.
    public var redactedAt: Date?
    /// The W3C `traceparent` of the span that accepted it (with tracing on), so that each
    /// attempt's span joins the producer's trace.
    public var traceParent: String?

    public init(
        id: String, type: String, payload: [UInt8], createdAt: Date, tenant: String = Tenant.defaultID, redactedAt: Date? = nil,
        traceParent: String? = nil
    ) {
        self.id = id
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
        self.tenant = tenant
        self.redactedAt = redactedAt
        self.traceParent = traceParent
    }
}

/// An event with the number of deliveries it produced, as listings show it.
public struct EventSummary: Sendable, Hashable {
    public var event: Event
    public var deliveries: Int

    public init(event: Event, deliveries: Int) {
        self.event = event
        self.deliveries = deliveries
    }
}
