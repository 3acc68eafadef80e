import Foundation

/// What a redelivery request changes, decided without a database: which deliveries are due again
/// for a manual attempt, which are left alone and why, the kept counts' changes and the audit entry.
///
/// A store reads each requested delivery's status and endpoint (locked, in its transaction), then
/// makes the requeued ones `pending`, due now and manual, saves ``counts`` and inserts ``audit``.
public struct RedeliveryPlan: Sendable {
    /// A requested delivery as the store read it.
    public struct Current: Sendable, Hashable {
        public var status: DeliveryStatus
        public var endpointID: String
        /// Whether its event was redacted (nothing is left to send).
        public var redacted: Bool

        public init(status: DeliveryStatus, endpointID: String, redacted: Bool = false) {
            self.status = status
            self.endpointID = endpointID
            self.redacted = redacted
        }
    }

    /// Why a delivery of a redacted event is not sent again.
    public static let redactedReason = "its event was redacted, so there is nothing left to send"

    /// The deliveries to make due now, in the order asked.
    public var requeue: [String] { result.requeued }
    public var result: RedeliveryResult
    public var counts = DeliveryCountChanges()
    /// The audit entry to insert, when anything was requeued.
    public var audit: AuditEntry?

    /// Plans redelivering `ids` (each once, in the order given); `current` holds those that exist.
    /// With `onlyIfStatus`, a delivery in another status is skipped; one in flight always is.
    public init(_ ids: [String], current: [String: Current], onlyIfStatus: DeliveryStatus?, audit: AuditEntry) {
        var requeued: [String] = [], skipped: [RedeliveryResult.Skip] = [], seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            guard let delivery = current[id] else {
                skipped.append(.init(id: id, reason: "no such delivery"))
                continue
            }
            if delivery.redacted {
                skipped.append(.init(id: id, reason: Self.redactedReason))
            } else if delivery.status == .sending {
                skipped.append(.init(id: id, reason: "an attempt is in flight"))
            } else if let onlyIfStatus, delivery.status != onlyIfStatus {
                skipped.append(.init(id: id, reason: "it is \(delivery.status.rawValue) now, not \(onlyIfStatus.rawValue)"))
            } else {
                counts.move(delivery.endpointID, from: delivery.status, to: .pending)
                requeued.append(id)
            }
        }
        result = RedeliveryResult(requeued: requeued, skipped: skipped)
        if !requeued.isEmpty {
            var entry = audit
            entry.targetIDs = requeued
            if entry.detail.isEmpty { entry.detail = "\(requeued.count) deliveries requeued" }
            self.audit = entry
        }
    }
}

/// What resetting an endpoint's breaker changes, decided without a database.
public struct BreakerResetPlan: Sendable {
    /// The closed breaker to save.
    public var breaker: CircuitBreaker
    /// The pending deliveries the open breaker pushed back to its probe time, due again now: those
    /// with `next_attempt_at` in `(now, through]`; nil when the breaker pushed nothing back.
    public var dueAgainThrough: Date?
    public var audit: AuditEntry

    public init(endpointID: String, previous: CircuitBreaker?, at now: Date, audit: AuditEntry) {
        var breaker = CircuitBreaker(endpointID: endpointID)
        breaker.reset(at: now)
        self.breaker = breaker
        dueAgainThrough = previous?.nextProbeAt
        var entry = audit
        entry.detail = "was \(previous?.state.rawValue ?? BreakerState.closed.rawValue)"
        self.audit = entry
    }
}
