import Foundation

/// What a dispatcher needs of the store: claims, recording, releases, lease recovery, probes, and a
/// look at what changed, each at a cost that grows with the dispatcher's work, not with the store.
///
/// Every method is one transaction. The decisions are made in the core (``ClaimAllotment``,
/// ``RecordingPlan``); a back end fetches the rows they need and applies them.
public protocol DispatchStore: Sendable {
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

    // MARK: What it watches

    /// The endpoints with these ids that exist, in id order (what a dispatcher holds work for).
    func endpoints(ids: [String]) async throws(HooklineError) -> [Endpoint]
    /// The endpoints changed (`updated_at`) at or after `since`, oldest change first: how a
    /// dispatcher notices an operator's changes without reading every endpoint.
    func endpoints(updatedSince since: Date) async throws(HooklineError) -> [Endpoint]
    /// The stored breakers of these endpoints, and every breaker that is not closed, in endpoint
    /// order: what a dispatcher watches, at a cost that grows with its work, not with the endpoints.
    func breakers(endpointIDs: [String], orNotClosed: Bool) async throws(HooklineError) -> [CircuitBreaker]
}

extension DispatchStore {
    /// Claims from exactly these endpoints, at most each request's limit (and nothing elsewhere).
    public func claim(_ requests: [ClaimRequest], now: Date, leaseUntil: Date, owner: String) async throws(HooklineError) -> [ClaimedDelivery] {
        try await claim(ClaimPlan(requests), now: now, leaseUntil: leaseUntil, owner: owner).deliveries
    }

    /// Records finished attempts without claiming anything.
    public func record(_ results: [AttemptResult], planner: DeliveryPlanner, owner: String, at: Date) async throws(HooklineError) -> [RecordedAttempt] {
        try await record(results, planner: planner, owner: owner, at: at, thenClaim: nil, leaseUntil: at).recorded
    }
}
