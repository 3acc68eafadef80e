import Foundation

/// How the dispatcher runs: concurrency, timeouts, leases and the delivery rules.
public struct DispatcherConfiguration: Sendable {
    /// Retry schedule, breaker thresholds and auto-disable period.
    public var planner: DeliveryPlanner
    /// Requests in flight per endpoint at most.
    public var concurrencyPerEndpoint: Int
    /// Requests in flight in all at most.
    public var totalConcurrency: Int
    /// The whole-request time limit.
    public var requestTimeout: TimeInterval
    /// How long a claim holds before another dispatcher may take the delivery over.
    public var lease: TimeInterval
    /// How often the store is checked for work that other processes added.
    public var pollInterval: TimeInterval
    /// How often expired leases are recovered.
    public var leaseRecoveryInterval: TimeInterval
    /// How often endpoints and breakers are re-read (changes made by the CLI or console).
    public var refreshInterval: TimeInterval
    /// Deliveries claimed in one go per endpoint, beyond its free slots (kept ready to send).
    public var readyPerEndpoint: Int
    /// A span per attempt, when tracing is on.
    public var tracing: AttemptTracing?
    /// While busy, how long results gather before the next recording batch is written, so that a
    /// commit carries about 80 attempts instead of 18 (each commit writes every page it touched to
    /// the WAL); 0 writes each batch as soon as the previous one is done. A quiet dispatcher (the
    /// last batch under 16 attempts) never waits.
    public var recordWindow: TimeInterval
    /// A batch this large is written without waiting for the window.
    public var recordBatchTarget: Int

    public init(
        planner: DeliveryPlanner = DeliveryPlanner(), concurrencyPerEndpoint: Int = 8, totalConcurrency: Int = 256,
        requestTimeout: TimeInterval = 15, lease: TimeInterval = 60, pollInterval: TimeInterval = 0.25,
        leaseRecoveryInterval: TimeInterval = 5, refreshInterval: TimeInterval = 1, readyPerEndpoint: Int = 48,
        tracing: AttemptTracing? = nil, recordWindow: TimeInterval = 0.005, recordBatchTarget: Int = 256
    ) {
        self.recordWindow = recordWindow
        self.recordBatchTarget = recordBatchTarget
        self.planner = planner
        self.concurrencyPerEndpoint = concurrencyPerEndpoint
        self.totalConcurrency = totalConcurrency
        self.requestTimeout = requestTimeout
        self.lease = lease
        self.pollInterval = pollInterval
        self.leaseRecoveryInterval = leaseRecoveryInterval
        self.refreshInterval = refreshInterval
        self.readyPerEndpoint = readyPerEndpoint
        self.tracing = tracing
    }

    /// Checks that the numbers make sense together.
    public func validate() throws(HooklineError) {
        guard concurrencyPerEndpoint >= 1, concurrencyPerEndpoint <= 1024 else {
            throw .invalidInput("The per-endpoint concurrency must be between 1 and 1024.")
        }
        guard totalConcurrency >= 1, totalConcurrency <= 65_536 else {
            throw .invalidInput("The total concurrency must be between 1 and 65536.")
        }
        guard requestTimeout > 0, requestTimeout <= 300 else {
            throw .invalidInput("The request timeout must be above 0 and at most 5 minutes.")
        }
        guard recordWindow >= 0, recordWindow <= 1, recordBatchTarget >= 1 else {
            throw .invalidInput("The recording window must be between 0 and 1 second, and the batch target at least 1.")
        }
        guard lease > requestTimeout * 2 else {
            throw .invalidInput("The lease (\(DurationText.format(lease))) must be more than twice the request timeout (\(DurationText.format(requestTimeout))), or deliveries could be sent twice at once.")
        }
    }
}
