import Foundation

/// What ``OperationsStore/ingest(_:audit:)`` did.
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
    /// Only this tenant's events, when set.
    public var tenant: String?
    public var limit: Int

    public init(type: String? = nil, tenant: String? = nil, limit: Int = 50) {
        self.type = type
        self.tenant = tenant
        self.limit = limit
    }
}

/// Which endpoints to list: oldest first (id order), optionally one tenant's, after an id.
public struct EndpointQuery: Sendable, Hashable {
    /// Only this tenant's endpoints, when set.
    public var tenant: String?
    /// Only endpoints whose id sorts after this one (the last id of the previous page).
    public var after: String?
    /// At most this many; nil for all.
    public var limit: Int?

    public init(tenant: String? = nil, after: String? = nil, limit: Int? = nil) {
        self.tenant = tenant
        self.after = after
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


/// What one recording transaction did: the attempts it recorded and the deliveries it then claimed.
public struct RecordedBatch: Sendable {
    public var recorded: [RecordedAttempt]
    public var claimed: ClaimedBatch

    public init(recorded: [RecordedAttempt], claimed: ClaimedBatch) {
        self.recorded = recorded
        self.claimed = claimed
    }
}

/// What a redelivery request did.
public struct RedeliveryResult: Sendable, Hashable {
    /// Deliveries now due for a manual attempt.
    public var requeued: [String]
    /// Deliveries left alone, with why (`in flight`, `not failed any more`, `no such delivery`).
    public var skipped: [Skip]

    public struct Skip: Sendable, Hashable {
        public var id: String
        public var reason: String
    }

    public init(requeued: [String], skipped: [Skip]) {
        self.requeued = requeued
        self.skipped = skipped
    }
}

/// An endpoint's recent delivery health.
public struct EndpointStats: Sendable, Hashable {
    public var attempts: Int
    public var successes: Int
    /// The 95th percentile of attempt durations, in milliseconds.
    public var p95LatencyMs: Int?

    public init(attempts: Int, successes: Int, p95LatencyMs: Int?) {
        self.attempts = attempts
        self.successes = successes
        self.p95LatencyMs = p95LatencyMs
    }

    /// Successes over attempts, or nil without attempts.
    public var successRate: Double? { attempts == 0 ? nil : Double(successes) / Double(attempts) }
}

/// A delivery with its event's type, as the console's failed pane lists it.
public struct DeliveryRow: Sendable, Hashable {
    public var delivery: Delivery
    public var eventType: String

    public init(delivery: Delivery, eventType: String) {
        self.delivery = delivery
        self.eventType = eventType
    }
}

/// Attempts in one minute.
public struct MinuteBucket: Sendable, Hashable {
    /// The minute's start.
    public var minute: Date
    public var attempts: Int
    public var successes: Int

    public init(minute: Date, attempts: Int, successes: Int) {
        self.minute = minute
        self.attempts = attempts
        self.successes = successes
    }
}

/// Deliveries by the states an operator watches.
public struct DeliveryCounts: Sendable, Hashable {
    public var pending: Int
    public var failed: Int
    public var held: Int

    public init(pending: Int, failed: Int, held: Int) {
        self.pending = pending
        self.failed = failed
        self.held = held
    }
}

/// The rows behind one console frame.
public struct ConsoleFrame: Sendable, Hashable {
    /// The window's endpoints, in its order.
    public var endpoints: [Endpoint]
    /// Endpoints in the store.
    public var endpointTotal: Int
    public var breakers: [CircuitBreaker]
    public var stats: [String: EndpointStats]
    public var events: [EventSummary]
    public var failed: [DeliveryRow]
    public var throughput: [MinuteBucket]
    public var counts: DeliveryCounts
    /// The database's size.
    public var storage: StorageSize

    public init(endpoints: [Endpoint], endpointTotal: Int, breakers: [CircuitBreaker], stats: [String: EndpointStats], events: [EventSummary],
                failed: [DeliveryRow], throughput: [MinuteBucket], counts: DeliveryCounts, storage: StorageSize) {
        self.endpoints = endpoints
        self.endpointTotal = endpointTotal
        self.breakers = breakers
        self.stats = stats
        self.events = events
        self.failed = failed
        self.throughput = throughput
        self.counts = counts
        self.storage = storage
    }
}
