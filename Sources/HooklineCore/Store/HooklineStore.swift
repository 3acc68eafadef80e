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
    /// Up to `limit` endpoints in id order, after `after` when given (a page of a listing).
    func endpoints(after: String?, limit: Int) async throws(HooklineError) -> [Endpoint]
    /// The endpoints with these ids that exist, in id order (what a dispatcher holds work for).
    func endpoints(ids: [String]) async throws(HooklineError) -> [Endpoint]
    /// The endpoints changed (`updated_at`) at or after `since`, oldest change first: how a
    /// dispatcher notices an operator's changes without reading every endpoint.
    func endpoints(updatedSince since: Date) async throws(HooklineError) -> [Endpoint]
    /// Changes an endpoint's settings (url, description, event types, rate limit, secrets) in one transaction.
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
    /// Ingests several events in one transaction, in order; each behaves as ``ingest(_:audit:)``.
    func ingestBatch(_ events: [Event]) async throws(HooklineError) -> [IngestResult]
    /// The event with this id, with its delivery count, or nil.
    func event(id: String) async throws(HooklineError) -> EventSummary?
    /// Events, newest first.
    func events(_ query: EventQuery) async throws(HooklineError) -> [EventSummary]

    // MARK: Deliveries

    /// The delivery with this id, or nil.
    func delivery(id: String) async throws(HooklineError) -> Delivery?
    /// Deliveries, newest first.
    func deliveries(_ query: DeliveryQuery) async throws(HooklineError) -> [Delivery]
    /// How many deliveries have this status, optionally for one endpoint.
    func countDeliveries(status: DeliveryStatus, endpointID: String?) async throws(HooklineError) -> Int
    /// The attempts of a delivery, first one first.
    func attempts(deliveryID: String) async throws(HooklineError) -> [Attempt]

    // MARK: Dispatch

    /// Claims due `pending` deliveries as ``ClaimAllotment`` allots them along a walk of the endpoints
    /// with pending work (see ``ClaimPlan``), and marks them `sending` under a lease held by `owner`
    /// until `leaseUntil`. Deliveries another transaction holds are skipped, not waited for.
    func claim(_ plan: ClaimPlan, now: Date, leaseUntil: Date, owner: String) async throws(HooklineError) -> ClaimedBatch
    /// The earliest `next_attempt_at` of any `pending` delivery, or nil when none is pending.
    func nextDueAt() async throws(HooklineError) -> Date?
    /// Records finished attempts and applies `planner` to each delivery, breaker and endpoint,
    /// all in one transaction. Results for deliveries no longer leased by `owner` keep their attempt
    /// row but do not change the delivery.
    ///
    /// Then, in the same transaction, claims as ``claim(_:now:leaseUntil:owner:)`` does for `plan`
    /// (when given): a busy dispatcher refills its lanes without a commit of its own.
    func record(
        _ results: [AttemptResult], planner: DeliveryPlanner, owner: String, at: Date, thenClaim plan: ClaimPlan?, leaseUntil: Date
    ) async throws(HooklineError) -> RecordedBatch
    /// Gives claimed deliveries back without an attempt (breaker open, shutdown).
    func release(_ deliveryIDs: [String], nextAttemptAt: Date, owner: String) async throws(HooklineError)
    /// Makes `sending` deliveries whose lease has expired `pending` again; returns how many.
    func recoverExpiredLeases(now: Date) async throws(HooklineError) -> Int
    /// Marks an open breaker whose probe time has come half-open while its probe is in flight, and
    /// says whether this caller won the probe: false when another dispatcher is probing already
    /// (a probe older than `takeOverAfter` is taken over: its dispatcher died).
    func markProbe(endpointID: String, at: Date, takeOverAfter: TimeInterval) async throws(HooklineError) -> Bool
    /// How many deliveries are `pending` or `sending`.
    func activeDeliveryCount() async throws(HooklineError) -> Int

    // MARK: Breakers and redelivery

    /// Every stored breaker (endpoints that never failed may have none).
    func breakers() async throws(HooklineError) -> [CircuitBreaker]
    /// The stored breakers of these endpoints, and every breaker that is not closed, in endpoint
    /// order: what a dispatcher watches, at a cost that grows with its work, not with the endpoints.
    func breakers(endpointIDs: [String], orNotClosed: Bool) async throws(HooklineError) -> [CircuitBreaker]
    /// Closes an endpoint's breaker and makes the deliveries it was holding back due now.
    func resetBreaker(endpointID: String, at: Date, audit: AuditEntry) async throws(HooklineError) -> CircuitBreaker
    /// Makes deliveries due now for a `manual` attempt, whatever their state, except `sending` ones;
    /// with `onlyIfStatus`, only those still in that status.
    func redeliver(_ deliveryIDs: [String], onlyIfStatus: DeliveryStatus?, at: Date, audit: AuditEntry) async throws(HooklineError) -> RedeliveryResult
    /// The ids of an endpoint's `failed` deliveries last changed at or after `since`, oldest first.
    func failedDeliveryIDs(endpointID: String, since: Date?) async throws(HooklineError) -> [String]
    /// Attempts, successes and latency per endpoint since a time.
    func endpointStats(since: Date) async throws(HooklineError) -> [String: EndpointStats]

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

    // MARK: Test sends and retention

    /// Keeps a test send with its endpoint, and its audit entry, in one transaction.
    func recordTestSend(_ send: TestSend, audit: AuditEntry) async throws(HooklineError)
    /// An endpoint's newest test sends.
    func testSends(endpointID: String, limit: Int) async throws(HooklineError) -> [TestSend]
    /// One step of a pruning pass: looks at up to `limit` events older than the rule's cutoff, oldest
    /// first after `cursor`, and removes those the rule allows with their deliveries and attempts
    /// (the first step, with no cursor, also removes old test sends). A dry run counts and changes
    /// nothing. Each step is one short transaction, so that the dispatcher's writes go on between steps.
    func prune(_ rule: PruneRule, after cursor: PruneCursor?, limit: Int, dryRun: Bool) async throws(HooklineError) -> PruneStep
    /// Gives up to `maximumBytes` of the space that pruning freed back to the file system, in one
    /// transaction; nil when this database can only reuse the space for new rows.
    func reclaimSpace(maximumBytes: Int64) async throws(HooklineError) -> ReclaimStep?

    // MARK: Audit

    /// Records an action that changes nothing else in the store (a pruning pass).
    func recordAudit(_ entry: AuditEntry) async throws(HooklineError)

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

extension HooklineStore {
    /// A console frame with the default window of endpoints.
    public func consoleFrame(eventsLimit: Int, failedLimit: Int, since: Date) async throws(HooklineError) -> ConsoleFrame {
        try await consoleFrame(eventsLimit: eventsLimit, failedLimit: failedLimit, since: since, endpoints: EndpointWindow())
    }

    /// Claims from exactly these endpoints, at most each request's limit (and nothing elsewhere).
    public func claim(_ requests: [ClaimRequest], now: Date, leaseUntil: Date, owner: String) async throws(HooklineError) -> [ClaimedDelivery] {
        try await claim(ClaimPlan(requests), now: now, leaseUntil: leaseUntil, owner: owner).deliveries
    }

    /// Records finished attempts without claiming anything.
    public func record(_ results: [AttemptResult], planner: DeliveryPlanner, owner: String, at: Date) async throws(HooklineError) -> [RecordedAttempt] {
        try await record(results, planner: planner, owner: owner, at: at, thenClaim: nil, leaseUntil: at).recorded
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
