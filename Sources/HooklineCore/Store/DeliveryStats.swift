import Foundation

/// What `hookline stats` asks for: one tenant's figures or every tenant's, with attempts since a time.
public struct StatsQuery: Sendable, Hashable {
    /// Only this tenant's endpoints; nil for every tenant's.
    public var tenant: String?
    /// Attempts, success rates and latencies count from here; delivery counts are the current state.
    public var since: Date

    public init(tenant: String? = nil, since: Date) {
        self.tenant = tenant
        self.since = since
    }
}

/// Percentiles of attempt durations in milliseconds, taken as PostgreSQL's `percentile_disc` takes
/// them: the smallest value with at least that share of the values at or below it.
public struct LatencyPercentiles: Sendable, Hashable {
    public var p50: Int
    public var p95: Int
    public var p99: Int

    public init(p50: Int, p95: Int, p99: Int) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    /// The percentiles of `durations`, or nil when there are none.
    public init?(_ durations: [Int]) {
        guard !durations.isEmpty else { return nil }
        let sorted = durations.sorted()
        self.init(p50: Self.discrete(sorted, 0.50), p95: Self.discrete(sorted, 0.95), p99: Self.discrete(sorted, 0.99))
    }

    /// The value at `fraction` of ascending `sorted` (not empty), by `percentile_disc`'s rule.
    public static func discrete(_ sorted: [Int], _ fraction: Double) -> Int {
        sorted[max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }
}

/// Attempts in a window: how many, how many succeeded, and how long they took.
public struct AttemptFigures: Sendable, Hashable {
    public var attempts: Int
    public var successes: Int
    /// Nil without attempts.
    public var latency: LatencyPercentiles?

    public init(attempts: Int = 0, successes: Int = 0, latency: LatencyPercentiles? = nil) {
        self.attempts = attempts
        self.successes = successes
        self.latency = latency
    }

    /// Successes over attempts, or nil without attempts.
    public var successRate: Double? { attempts == 0 ? nil : Double(successes) / Double(attempts) }
}

/// The pending delivery that has waited longest.
public struct OldestPending: Sendable, Hashable {
    public var deliveryID: String
    public var endpointID: String
    public var createdAt: Date

    public init(deliveryID: String, endpointID: String, createdAt: Date) {
        self.deliveryID = deliveryID
        self.endpointID = endpointID
        self.createdAt = createdAt
    }
}

/// The figures the console's header shows, for scripts: deliveries by status (now), attempts,
/// success rate and latency percentiles (since the query's time), breakers that are not closed and
/// the oldest pending delivery, in total and per endpoint.
public struct DeliveryStats: Sendable, Hashable {
    /// One endpoint's share.
    public struct EndpointLine: Sendable, Hashable {
        public var endpointID: String
        public var url: String
        public var deliveries: [DeliveryStatus: Int]
        public var attempts: AttemptFigures
        /// Nil while the breaker is closed.
        public var breaker: BreakerState?
    }

    public var tenant: String?
    public var since: Date
    public var until: Date
    /// Deliveries by status now; every status is present.
    public var deliveries: [DeliveryStatus: Int]
    public var attempts: AttemptFigures
    /// Open and half-open breakers, the endpoint that opened longest ago first.
    public var breakers: [CircuitBreaker]
    public var oldestPending: OldestPending?
    /// Endpoints with any delivery or an attempt in the window (quiet endpoints that never had a
    /// delivery are left out): those whose breaker is not closed first, then the most failed
    /// deliveries first, then by id.
    public var endpoints: [EndpointLine]

    /// Assembles the figures from what a back end read.
    /// - Parameters:
    ///   - counts: deliveries per endpoint and status (the kept counts).
    ///   - perEndpoint: attempt figures per endpoint in the window.
    ///   - overall: the window's attempt figures over all of the scope's endpoints.
    ///   - urls: the scope's endpoints: only these are counted.
    public init(
        query: StatsQuery, until: Date, counts: [(endpointID: String, status: DeliveryStatus, count: Int)],
        perEndpoint: [String: AttemptFigures], overall: AttemptFigures, breakers: [CircuitBreaker],
        oldestPending: OldestPending?, urls: [String: String]
    ) {
        tenant = query.tenant
        since = query.since
        self.until = until
        var totals = Dictionary(uniqueKeysWithValues: DeliveryStatus.allCases.map { ($0, 0) })
        var byEndpoint: [String: [DeliveryStatus: Int]] = [:]
        for row in counts where row.count != 0 && urls[row.endpointID] != nil {
            totals[row.status, default: 0] += row.count
            byEndpoint[row.endpointID, default: [:]][row.status, default: 0] += row.count
        }
        deliveries = totals
        attempts = overall
        let inScope = breakers.filter { $0.state != .closed && urls[$0.endpointID] != nil }
        self.breakers = inScope.sorted { ($0.openedAt ?? .distantFuture, $0.endpointID) < ($1.openedAt ?? .distantFuture, $1.endpointID) }
        self.oldestPending = oldestPending
        let states = Dictionary(inScope.map { ($0.endpointID, $0.state) }) { first, _ in first }
        let ids = Set(byEndpoint.keys).union(perEndpoint.keys.filter { urls[$0] != nil }).union(states.keys)
        endpoints = ids.map { id in
            var deliveries = Dictionary(uniqueKeysWithValues: DeliveryStatus.allCases.map { ($0, 0) })
            deliveries.merge(byEndpoint[id] ?? [:]) { $1 }
            return EndpointLine(
                endpointID: id, url: urls[id] ?? "", deliveries: deliveries, attempts: perEndpoint[id] ?? AttemptFigures(), breaker: states[id])
        }.sorted { a, b in
            if (a.breaker != nil) != (b.breaker != nil) { return a.breaker != nil }
            return (b.deliveries[.failed] ?? 0, a.endpointID) < (a.deliveries[.failed] ?? 0, b.endpointID)
        }
    }

    /// All deliveries in the scope.
    public var totalDeliveries: Int { deliveries.values.reduce(0, +) }
}
