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
    /// Only events older than this one in the listing's order (the last of the previous page).
    public var before: PageKey?
    public var limit: Int

    /// Only events created at or after this time, when set.
    public var since: Date?

    public init(type: String? = nil, tenant: String? = nil, before: PageKey? = nil, since: Date? = nil, limit: Int = 50) {
        self.since = since
        self.type = type
        self.tenant = tenant
        self.before = before
        self.limit = limit
    }
}

/// Where a page of a newest-first listing ordered by creation time ends: the last row's time and
/// id. The next page holds the rows strictly older than it, so rows added meanwhile (newer) never
/// shift a walk, and each row comes exactly once.
public struct PageKey: Sendable, Hashable {
    public var createdAt: Date
    public var id: String

    public init(createdAt: Date, id: String) {
        self.createdAt = createdAt
        self.id = id
    }
}

/// Which endpoints to list: one tenant's or all, oldest or newest first (id order: ids are
/// ULIDs of their creation time), after the last id of the previous page.
public struct EndpointQuery: Sendable, Hashable {
    /// Only this tenant's endpoints, when set.
    public var tenant: String?
    /// Only endpoints whose id comes after this one in the listing's order (the last id of the previous page).
    public var after: String?
    /// At most this many; nil for all.
    public var limit: Int?
    /// Newest first (descending ids) instead of oldest first.
    public var newestFirst: Bool

    public init(tenant: String? = nil, after: String? = nil, limit: Int? = nil, newestFirst: Bool = false) {
        self.tenant = tenant
        self.after = after
        self.limit = limit
        self.newestFirst = newestFirst
    }
}

/// Which tenants to list: in id order after an id, or newest first before a page key.
public struct TenantQuery: Sendable, Hashable {
    public enum Order: Sendable, Hashable {
        /// Ascending ids, after this id when given.
        case id(after: String?)
        /// Newest first by creation time (then id), older than this key when given.
        case newestFirst(before: PageKey?)
    }

    public var order: Order
    public var limit: Int

    public init(order: Order = .id(after: nil), limit: Int = 10_000) {
        self.order = order
        self.limit = limit
    }
}

/// Which deliveries to list, newest first (id order: ids are ULIDs of their creation time).
public struct DeliveryQuery: Sendable, Hashable {
    public var status: DeliveryStatus?
    public var endpointID: String?
    public var eventID: String?
    /// Only deliveries to this tenant's endpoints, when set.
    public var tenant: String?
    /// Only deliveries whose id sorts before this one (the last id of the previous page).
    public var before: String?
    public var limit: Int

    public init(
        status: DeliveryStatus? = nil, endpointID: String? = nil, eventID: String? = nil, tenant: String? = nil,
        before: String? = nil, limit: Int = 50
    ) {
        self.status = status
        self.endpointID = endpointID
        self.eventID = eventID
        self.tenant = tenant
        self.before = before
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

    /// The 95th percentile of `durations` as PostgreSQL's `percentile_disc(0.95)` takes it: the
    /// smallest value with at least 95 % of the values at or below it; nil when there are none.
    public static func p95(_ durations: [Int]) -> Int? {
        guard !durations.isEmpty else { return nil }
        return LatencyPercentiles.discrete(durations.sorted(), 0.95)
    }
}

/// A delivery with its event's type, as the console's failed pane lists it.
public struct DeliveryRow: Sendable, Hashable {
    public var delivery: Delivery
    public var eventType: String
    /// The event's tenant, which is its endpoint's.
    public var tenant: String

    public init(delivery: Delivery, eventType: String, tenant: String = Tenant.defaultID) {
        self.delivery = delivery
        self.eventType = eventType
        self.tenant = tenant
    }
}

/// Attempts in one stretch of time (a minute or a second).
public struct ActivityBucket: Sendable, Hashable {
    /// The stretch's start.
    public var start: Date
    public var attempts: Int
    public var successes: Int

    public init(start: Date, attempts: Int, successes: Int) {
        self.start = start
        self.attempts = attempts
        self.successes = successes
    }
}

/// An attempt with what the console's live attempts view shows beside it.
public struct AttemptRow: Sendable, Hashable {
    public var attempt: Attempt
    public var endpointID: String
    public var eventID: String
    public var eventType: String
    /// The event's tenant, which is its endpoint's.
    public var tenant: String

    public init(attempt: Attempt, endpointID: String, eventID: String, eventType: String, tenant: String = Tenant.defaultID) {
        self.attempt = attempt
        self.endpointID = endpointID
        self.eventID = eventID
        self.eventType = eventType
        self.tenant = tenant
    }
}

/// What one console frame reads.
public struct ConsoleFrameQuery: Sendable, Hashable {
    public var eventsLimit: Int
    public var failedLimit: Int
    /// The newest attempts to read for the live attempts view (0: none).
    public var attemptsLimit: Int
    /// Endpoint health and attempts per minute are counted from here.
    public var statsSince: Date
    /// Attempts per second are counted from here (nil: not read).
    public var secondsSince: Date?
    /// Only events, failed deliveries and attempts from this time on (the console's `:since`).
    public var recentSince: Date?
    public var endpoints: EndpointWindow

    public init(eventsLimit: Int, failedLimit: Int, attemptsLimit: Int = 0, statsSince: Date, secondsSince: Date? = nil,
                recentSince: Date? = nil, endpoints: EndpointWindow = EndpointWindow()) {
        self.eventsLimit = eventsLimit
        self.failedLimit = failedLimit
        self.attemptsLimit = attemptsLimit
        self.statsSince = statsSince
        self.secondsSince = secondsSince
        self.recentSince = recentSince
        self.endpoints = endpoints
    }

    /// The attempts view reads attempts no older than this, so a scoped or quiet frame never walks
    /// more than that stretch of the attempt index.
    public var attemptsSince: Date { max(recentSince ?? statsSince, statsSince) }
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
    /// Attempts per minute since the query's `statsSince`, oldest first.
    public var throughput: [ActivityBucket]
    /// Attempts per second since the query's `secondsSince`, oldest first.
    public var perSecond: [ActivityBucket]
    /// The newest attempts, newest first.
    public var attempts: [AttemptRow]
    public var counts: DeliveryCounts
    /// The database's size.
    public var storage: StorageSize
    /// Tenants in the store (1 when only `default` exists).
    public var tenantCount: Int

    public init(endpoints: [Endpoint], endpointTotal: Int, breakers: [CircuitBreaker], stats: [String: EndpointStats], events: [EventSummary],
                failed: [DeliveryRow], throughput: [ActivityBucket], perSecond: [ActivityBucket] = [], attempts: [AttemptRow] = [],
                counts: DeliveryCounts, storage: StorageSize, tenantCount: Int = 1) {
        self.tenantCount = tenantCount
        self.perSecond = perSecond
        self.attempts = attempts
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

/// Who holds an idempotency key.
public enum IdempotencyClaim: Sendable, Hashable {
    /// This request has it now.
    case claimed
    /// An earlier request has it: its digest, and what it created (nil while it is under way).
    case taken(requestHash: String, resourceID: String?)
}
