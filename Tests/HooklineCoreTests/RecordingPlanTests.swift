import Foundation
@testable import HooklineCore
import Testing

/// The backend-neutral decisions of recording a batch and of redelivering: what both stores apply.
@Suite struct RecordingPlanTests {
    static let now = Date(timeIntervalSince1970: 1_764_000_000)

    static func result(_ deliveryID: String, endpoint: String, status: Int?) -> AttemptResult {
        let delivery = ClaimedDelivery(
            id: deliveryID, eventID: "evt_\(deliveryID)", eventType: "invoice.paid", endpointID: endpoint,
            payload: Array("{}".utf8), attempts: 0, manual: false)
        let attempt = Attempt(
            deliveryID: deliveryID, number: 1, trigger: .scheduled, startedAt: now, durationMs: 10, statusCode: status,
            errorClass: status == 200 ? nil : "http_status", errorMessage: status.map { "HTTP \($0)" })
        return AttemptResult(delivery: delivery, attempt: attempt, random: 0.5)
    }

    static func sending(_ owner: String = "me") -> RecordingPlan.Lease { .init(status: .sending, owner: owner) }

    @Test func aGoneEndpointIsDisabledOnceAndItsLaterResultsAreHeld() {
        let results = [Self.result("d1", endpoint: "ep_a", status: 500), Self.result("d2", endpoint: "ep_a", status: 410),
                       Self.result("d3", endpoint: "ep_a", status: 500), Self.result("d4", endpoint: "ep_b", status: 200)]
        let plan = RecordingPlan(
            results, leases: ["d1": Self.sending(), "d2": Self.sending(), "d3": Self.sending(), "d4": Self.sending()],
            breakers: [:], enabled: ["ep_a": true, "ep_b": true], planner: DeliveryPlanner(), owner: "me", now: Self.now)
        #expect(plan.changes.map(\.status) == [.pending, .held, .held, .succeeded])
        #expect(plan.disables.map(\.endpointID) == ["ep_a"])
        #expect(plan.breakers.map(\.endpointID) == ["ep_a", "ep_b"])
        #expect(plan.changes[3].lastError == nil)
        #expect(plan.changes[0].lastError == "HTTP 500")
        let counts = plan.counts.entries.map { "\($0.endpointID) \($0.status.rawValue) \($0.delta)" }
        #expect(counts == ["ep_a held 2", "ep_a pending 1", "ep_a sending -3", "ep_b sending -1", "ep_b succeeded 1"])
    }

    @Test func aLostLeaseRecordsTheAttemptButChangesNothingElse() {
        let results = [Self.result("d1", endpoint: "ep_a", status: 500), Self.result("gone", endpoint: "ep_a", status: 500)]
        let plan = RecordingPlan(
            results, leases: ["d1": Self.sending("another node")], breakers: [:], enabled: ["ep_a": true],
            planner: DeliveryPlanner(), owner: "me", now: Self.now)
        #expect(plan.attempts.map(\.deliveryID) == ["d1"])
        #expect(plan.changes.isEmpty)
        #expect(plan.breakers.isEmpty)
        #expect(plan.counts.entries.isEmpty)
        #expect(plan.recorded.isEmpty)
    }

    @Test func theBreakerThatOpensDefersTheEndpointToItsProbe() throws {
        let results = (0..<12).map { Self.result("d\($0)", endpoint: "ep_a", status: 503) }
        let leases = Dictionary(uniqueKeysWithValues: results.map { ($0.delivery.id, Self.sending()) })
        let plan = RecordingPlan(
            results, leases: leases, breakers: [:], enabled: ["ep_a": true], planner: DeliveryPlanner(), owner: "me", now: Self.now)
        let breaker = try #require(plan.breakers.first)
        #expect(breaker.state == .open)
        #expect(plan.deferrals.map(\.endpointID) == ["ep_a"])
        #expect(plan.deferrals.first?.until == breaker.nextProbeAt)
    }

    @Test func redeliverySkipsWhatIsInFlightMissingOrInAnotherStatusAndCountsEachOnce() {
        let current: [String: RedeliveryPlan.Current] = [
            "f1": .init(status: .failed, endpointID: "ep_a"), "s1": .init(status: .sending, endpointID: "ep_a"),
            "ok": .init(status: .succeeded, endpointID: "ep_b"),
        ]
        let audit = AuditEntry(at: Self.now, actor: .cli, action: "delivery.redeliver", targetIDs: [])
        let plan = RedeliveryPlan(["f1", "s1", "nope", "ok", "f1"], current: current, onlyIfStatus: .failed, audit: audit)
        #expect(plan.requeue == ["f1"])
        #expect(plan.result.skipped.map(\.id) == ["s1", "nope", "ok"])
        #expect(plan.result.skipped.map(\.reason) == ["an attempt is in flight", "no such delivery", "it is succeeded now, not failed"])
        #expect(plan.audit?.targetIDs == ["f1"])
        #expect(plan.counts.entries.map { "\($0.status.rawValue) \($0.delta)" } == ["failed -1", "pending 1"])
        let any = RedeliveryPlan(["ok"], current: current, onlyIfStatus: nil, audit: audit)
        #expect(any.requeue == ["ok"])
        #expect(RedeliveryPlan(["nope"], current: current, onlyIfStatus: nil, audit: audit).audit == nil)
    }

    @Test func anUnknownStoredStatusIsAnErrorNotPending() {
        #expect(throws: HooklineError.unknownStoredValue(column: "delivery.status", value: "paused")) {
            try DeliveryStatus(stored: "paused")
        }
    }
}
