import Foundation

/// What an attempt's result does to its delivery, its endpoint and the endpoint's breaker.
///
/// Pure: the store calls it inside the transaction that records the attempt, with the breaker and
/// endpoint state read in that same transaction, so that every process applies the same rules.
public struct DeliveryPlanner: Sendable {
    public var retry: RetryPolicy
    public var breaker: BreakerConfiguration
    /// An endpoint with nothing but failures for this long is disabled.
    public var autoDisableAfter: TimeInterval

    public init(retry: RetryPolicy = RetryPolicy(), breaker: BreakerConfiguration = BreakerConfiguration(), autoDisableAfter: TimeInterval = 5 * 86_400) {
        self.retry = retry
        self.breaker = breaker
        self.autoDisableAfter = autoDisableAfter
    }

    /// The decision for one attempt.
    public struct Plan: Sendable, Hashable {
        public var status: DeliveryStatus
        public var nextAttemptAt: Date?
        /// Set when the endpoint must be disabled, with the reason recorded.
        public var disableEndpoint: String?
        /// Set when the breaker opened: the endpoint's pending deliveries wait until then.
        public var deferEndpointUntil: Date?
        public var transition: CircuitBreaker.Transition?
    }

    /// Decides the delivery's next state and updates `breaker`.
    public func plan(_ result: AttemptResult, breaker: inout CircuitBreaker, endpointEnabled: Bool, now: Date) -> Plan {
        if result.attempt.succeeded {
            let transition = breaker.record(success: true, at: now, configuration: self.breaker)
            return Plan(status: .succeeded, nextAttemptAt: nil, transition: transition)
        }
        if result.attempt.statusCode == 410 {
            return Plan(
                status: .held, nextAttemptAt: nil,
                disableEndpoint: "the receiver answered 410 Gone at \(Timestamp.iso8601(now))")
        }
        let transition = breaker.record(success: false, at: now, configuration: self.breaker)
        if let since = breaker.failingSince, now.timeIntervalSince(since) >= autoDisableAfter {
            return Plan(
                status: .held, nextAttemptAt: nil,
                disableEndpoint: "auto-disabled: nothing but failures since \(Timestamp.iso8601(since))",
                transition: transition)
        }
        let attemptsMade = result.delivery.attempts + 1
        guard let delay = retry.delay(
            afterAttempt: attemptsMade, retryAfter: result.retryAfter, throttled: result.throttled, random: result.random)
        else {
            return Plan(status: .failed, nextAttemptAt: nil, transition: transition)
        }
        var next = now.addingTimeInterval(delay)
        var deferUntil: Date?
        if breaker.state == .open, let probeAt = breaker.nextProbeAt {
            // Nothing goes to an open breaker's endpoint before its probe, this retry included.
            next = max(next, probeAt)
            if transition == .opened || transition == .reopened { deferUntil = probeAt }
        }
        return Plan(
            status: endpointEnabled ? .pending : .held, nextAttemptAt: endpointEnabled ? next : nil,
            deferEndpointUntil: deferUntil, transition: transition)
    }
}

/// A delivery claimed by a dispatcher, with what it needs to send it.
public struct ClaimedDelivery: Sendable, Hashable {
    public var id: String
    public var eventID: String
    public var eventType: String
    public var endpointID: String
    public var payload: [UInt8]
    /// Attempts made before this one.
    public var attempts: Int
    /// Whether an operator asked for this attempt (redelivery).
    public var manual: Bool
    /// When it was due; the claim's lateness is the dispatcher's lag.
    public var dueAt: Date?
    /// The event's `traceparent` (see ``Event/traceParent``).
    public var traceParent: String?

    public init(
        id: String, eventID: String, eventType: String, endpointID: String, payload: [UInt8], attempts: Int, manual: Bool, dueAt: Date? = nil,
        traceParent: String? = nil
    ) {
        self.id = id
        self.eventID = eventID
        self.eventType = eventType
        self.endpointID = endpointID
        self.payload = payload
        self.attempts = attempts
        self.manual = manual
        self.dueAt = dueAt
        self.traceParent = traceParent
    }
}

/// One finished attempt, ready to be recorded.
public struct AttemptResult: Sendable, Hashable {
    public var delivery: ClaimedDelivery
    public var attempt: Attempt
    /// The receiver's `Retry-After`, in seconds from the end of the attempt (429 and 503 only).
    public var retryAfter: TimeInterval?
    /// Whether the failure was a 429 or a timeout (the 60 s floor applies).
    public var throttled: Bool
    /// The jitter draw, in 0..<1.
    public var random: Double

    public init(delivery: ClaimedDelivery, attempt: Attempt, retryAfter: TimeInterval? = nil, throttled: Bool = false, random: Double = Double.random(in: 0..<1)) {
        self.delivery = delivery
        self.attempt = attempt
        self.retryAfter = retryAfter
        self.throttled = throttled
        self.random = random
    }
}

/// What recording an attempt did, for logs, metrics and the dispatcher's view of its breakers.
public struct RecordedAttempt: Sendable, Hashable {
    public var deliveryID: String
    public var endpointID: String
    public var plan: DeliveryPlanner.Plan
    public var breaker: CircuitBreaker
}
