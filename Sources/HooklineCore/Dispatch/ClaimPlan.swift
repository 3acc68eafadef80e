import Foundation

/// What a dispatcher asks one claim for: how many deliveries in all, how many per endpoint, and
/// where its round-robin walk over the endpoints with due work stopped last time.
///
/// A claim visits only endpoints that have `pending` deliveries, in endpoint-id order starting
/// after ``after`` and wrapping around, so an endpoint with nothing due costs nothing and one with
/// something due is reached within one walk of the endpoints that have work, however many
/// endpoints exist and however long another endpoint's backlog is.
public struct ClaimPlan: Sendable, Hashable {
    /// Deliveries this claim may take in all.
    public var budget: Int
    /// Deliveries an endpoint may get when this dispatcher holds none of its work.
    public var capacity: Int
    /// The room of endpoints this dispatcher holds work for (queued or in flight), which overrides
    /// ``capacity``: 0 keeps an endpoint out of this claim.
    public var rooms: [String: Int]
    /// The endpoint the previous claim stopped at; the walk resumes after it.
    public var after: String?
    /// Endpoints with pending work visited at most (each costs an index seek or two).
    public var maxEndpoints: Int
    /// A half-open breaker whose probe is older than this is taken over: its dispatcher died.
    public var probeTakeOver: TimeInterval

    public init(
        budget: Int, capacity: Int, rooms: [String: Int] = [:], after: String? = nil, maxEndpoints: Int = 1024,
        probeTakeOver: TimeInterval = 60
    ) {
        self.budget = budget
        self.capacity = capacity
        self.rooms = rooms
        self.after = after
        self.maxEndpoints = maxEndpoints
        self.probeTakeOver = probeTakeOver
    }

    /// A claim of exactly these endpoints, at most `limit` each (and nothing for the others).
    public init(_ requests: [ClaimRequest], maxEndpoints: Int = 1024) {
        self.init(
            budget: requests.reduce(0) { $0 + max(0, $1.limit) }, capacity: 0,
            rooms: Dictionary(requests.map { ($0.endpointID, max(0, $0.limit)) }) { $0 + $1 }, maxEndpoints: maxEndpoints)
    }
}

/// An endpoint with `pending` deliveries, as a claim's walk finds it.
public struct EndpointHead: Sendable, Hashable {
    public var endpointID: String
    /// Its earliest `next_attempt_at`.
    public var earliestDue: Date
    /// Deliveries due now, counted up to the plan's largest room (a claim never needs more).
    public var dueCount: Int
    /// A disabled endpoint's pending deliveries are only the ones an operator asked for.
    public var enabled: Bool
    /// The stored breaker, if the endpoint ever had one.
    public var breaker: CircuitBreaker?

    public init(endpointID: String, earliestDue: Date, dueCount: Int, enabled: Bool, breaker: CircuitBreaker?) {
        self.endpointID = endpointID
        self.earliestDue = earliestDue
        self.dueCount = dueCount
        self.enabled = enabled
        self.breaker = breaker
    }
}

/// How many deliveries to claim for one endpoint (the claim's allotment, or a test's request).
public struct ClaimRequest: Sendable, Hashable {
    public var endpointID: String
    public var limit: Int
    /// Only deliveries an operator asked for (the endpoint is disabled).
    public var manualOnly: Bool

    public init(endpointID: String, limit: Int, manualOnly: Bool = false) {
        self.endpointID = endpointID
        self.limit = limit
        self.manualOnly = manualOnly
    }
}

/// What one claim took: the deliveries, the stored breakers of their endpoints, and where the walk
/// stopped (the next claim's ``ClaimPlan/after``).
public struct ClaimedBatch: Sendable {
    public var deliveries: [ClaimedDelivery]
    /// The stored breaker of each endpoint claimed from that has one.
    public var breakers: [String: CircuitBreaker]
    /// Where the next claim resumes; nil when this walk saw every endpoint with work.
    public var cursor: String?

    public init(deliveries: [ClaimedDelivery] = [], breakers: [String: CircuitBreaker] = [:], cursor: String? = nil) {
        self.deliveries = deliveries
        self.breakers = breakers
        self.cursor = cursor
    }
}
