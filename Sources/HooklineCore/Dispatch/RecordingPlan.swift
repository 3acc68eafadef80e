import Foundation

/// Everything that recording a batch of attempt results changes, decided without a database.
///
/// A store reads, in its recording transaction, the batch's deliveries (locked), their endpoints'
/// breakers and whether each endpoint is enabled; this type applies ``DeliveryPlanner`` to every
/// result; the store then writes the plan in the order of its fields' documentation. So the rules
/// of recording live here once, and a back end only fetches rows and applies what this says.
public struct RecordingPlan: Sendable {
    /// A delivery as the store read it inside the recording transaction.
    public struct Lease: Sendable, Hashable {
        public var status: DeliveryStatus
        public var owner: String?
        /// Whether the delivery's event was redacted (read only for a lease that was lost: a
        /// redaction cancels the deliveries in flight, so a held lease means not redacted).
        public var redacted: Bool

        public init(status: DeliveryStatus, owner: String?, redacted: Bool = false) {
            self.status = status
            self.owner = owner
            self.redacted = redacted
        }

        /// Whether `owner` still holds the lease, so that its result decides the delivery.
        public func isHeld(by owner: String) -> Bool { status == .sending && self.owner == owner }
    }

    /// A delivery's new state after its attempt (apply: 2).
    public struct DeliveryChange: Sendable, Hashable {
        public var deliveryID: String
        public var endpointID: String
        public var status: DeliveryStatus
        public var nextAttemptAt: Date?
        public var statusCode: Int?
        /// What the delivery listing shows as its last error; nil after a success.
        public var lastError: String?
    }

    /// An attempt to insert (apply: 1): every result whose delivery still exists is recorded, even
    /// when its lease was lost, so that what was sent is never forgotten (but an answer to a
    /// redacted event keeps no response excerpt).
    public struct AttemptRow: Sendable, Hashable {
        public var deliveryID: String
        public var endpointID: String
        public var attempt: Attempt
    }

    public var attempts: [AttemptRow] = []
    public var changes: [DeliveryChange] = []
    /// Endpoints to disable, holding their pending deliveries (apply: 3, after the changes, so that
    /// the batch's own retries for that endpoint are held too). The count of deliveries held is
    /// added to ``counts`` by the store, which alone knows it.
    public var disables: [(endpointID: String, reason: String)] = []
    /// Endpoints whose pending deliveries wait until their breaker's probe (apply: 4), in endpoint order.
    public var deferrals: [(endpointID: String, until: Date)] = []
    /// The breakers the batch touched (apply: 5), in endpoint order.
    public var breakers: [CircuitBreaker] = []
    /// The status changes above, for the kept counts (apply: last).
    public var counts = DeliveryCountChanges()
    /// What each result did, for the dispatcher.
    public var recorded: [RecordedAttempt] = []

    /// Plans `results`. `leases` holds the deliveries that still exist; `breakers` the endpoints'
    /// stored breakers (a missing one is closed); `enabled` whether each endpoint is enabled (a
    /// missing endpoint counts as disabled).
    public init(
        _ results: [AttemptResult], leases: [String: Lease], breakers storedBreakers: [String: CircuitBreaker],
        enabled storedEnabled: [String: Bool], planner: DeliveryPlanner, owner: String, now: Date
    ) {
        var breakers = storedBreakers
        var enabled = storedEnabled
        var touched = Set<String>()
        var deferrals: [String: Date] = [:]
        for result in results {
            let deliveryID = result.delivery.id, endpointID = result.delivery.endpointID
            guard let lease = leases[deliveryID] else { continue }  // removed with its endpoint meanwhile
            var attempt = result.attempt
            if lease.redacted, attempt.responseExcerpt != nil { attempt.responseExcerpt = RedactionPlan.marker }
            attempts.append(AttemptRow(deliveryID: deliveryID, endpointID: endpointID, attempt: attempt))
            // Another dispatcher took it over after this one's lease expired, or a redaction
            // cancelled it: that stands.
            guard lease.isHeld(by: owner) else { continue }
            let endpointEnabled = enabled[endpointID] ?? false
            var breaker = breakers[endpointID] ?? CircuitBreaker(endpointID: endpointID)
            let plan = planner.plan(result, breaker: &breaker, endpointEnabled: endpointEnabled, now: now)
            breakers[endpointID] = breaker
            touched.insert(endpointID)
            changes.append(DeliveryChange(
                deliveryID: deliveryID, endpointID: endpointID, status: plan.status, nextAttemptAt: plan.nextAttemptAt,
                statusCode: attempt.statusCode, lastError: attempt.succeeded ? nil : (attempt.errorMessage ?? attempt.errorClass)))
            counts.move(endpointID, from: .sending, to: plan.status)
            if let reason = plan.disableEndpoint, endpointEnabled {
                disables.append((endpointID, reason))
                enabled[endpointID] = false
            }
            if let until = plan.deferEndpointUntil { deferrals[endpointID] = until }
            recorded.append(RecordedAttempt(deliveryID: deliveryID, endpointID: endpointID, plan: plan, breaker: breaker))
        }
        self.deferrals = deferrals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.breakers = touched.sorted().compactMap { breakers[$0] }
    }
}
