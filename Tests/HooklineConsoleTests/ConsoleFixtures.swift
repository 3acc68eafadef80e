import Foundation
@testable import HooklineConsole
@testable import HooklineCore

enum ConsoleFixtures {
    static let now = Date(timeIntervalSince1970: 1_764_000_000)

    static func endpoint(_ id: String, _ name: String, enabled: Bool = true, types: EventTypeSelection = .all) -> Endpoint {
        Endpoint(id: id, url: "https://\(id).example.com/hook", description: name, secret: "s3cr3t-0123456789abcdefghij-tail",
                 enabled: enabled, eventTypes: types, createdAt: now, updatedAt: now)
    }

    static func overview(_ endpoint: Endpoint, state: BreakerState = .closed, attempts: Int = 100, successes: Int = 100) -> EndpointOverview {
        var breaker = CircuitBreaker(endpointID: endpoint.id)
        breaker.state = state
        if state != .closed {
            breaker.consecutiveFailures = 5
            breaker.openedAt = now.addingTimeInterval(-20)
            breaker.nextProbeAt = now.addingTimeInterval(10)
        }
        return EndpointOverview(endpoint: endpoint, breaker: breaker, stats: EndpointStats(attempts: attempts, successes: successes, p95LatencyMs: 42))
    }

    /// Attempts newest first: alternately a success at CRM sync and a 503 at Legacy ERP, one a second.
    static func attemptRows(_ count: Int, names: [String] = ["ep_crm", "ep_erp"]) -> [AttemptRow] {
        (0..<count).map { index in
            let endpointID = names[index % names.count]
            let ok = index % 2 == 0
            return AttemptRow(
                attempt: Attempt(deliveryID: "dlv_a\(index)", number: ok ? 1 : 3, trigger: .scheduled, startedAt: now.addingTimeInterval(Double(-index)),
                                 durationMs: ok ? 12 : 5003, statusCode: ok ? 200 : 503, errorClass: ok ? nil : "http_status"),
                endpointID: endpointID, eventID: "evt_a\(index)", eventType: ok ? "case.created" : "case.lost")
        }
    }

    static func snapshot(endpoints: [EndpointOverview]? = nil, events: Int = 5, failed: Int = 2, attempts: Int = 6) -> DashboardSnapshot {
        let endpoints = endpoints ?? [
            overview(endpoint("ep_crm", "CRM sync")),
            overview(endpoint("ep_erp", "Legacy ERP"), state: .open, attempts: 10, successes: 0),
            overview(endpoint("ep_mail", "Email", enabled: false, types: .only(["case.created"]))),
        ]
        let eventRows = (0..<events).map { index in
            EventSummary(event: Event(id: "evt_\(index)", type: "case.created", payload: Array("{}".utf8), createdAt: now.addingTimeInterval(Double(-index))), deliveries: 2)
        }
        let failedRows = (0..<failed).map { index in
            DeliveryRow(delivery: Delivery(id: "dlv_\(index)", eventID: "evt_\(index)", endpointID: "ep_erp", status: .failed, attempts: 8,
                                           nextAttemptAt: nil, lastStatusCode: 503, lastError: "HTTP 503", createdAt: now, updatedAt: now.addingTimeInterval(-90)),
                        eventType: "case.lost")
        }
        return DashboardSnapshot(
            takenAt: now, location: "/var/lib/hookline.db", endpoints: endpoints, events: eventRows, failed: failedRows,
            throughput: [ActivityBucket(start: now.addingTimeInterval(-60), attempts: 120, successes: 110)],
            perSecond: (1...30).map { ActivityBucket(start: now.addingTimeInterval(Double(-$0)), attempts: $0 % 7, successes: $0 % 7 / 2) },
            attempts: attemptRows(attempts),
            counts: DeliveryCounts(pending: 3, failed: failed, held: 1), storage: StorageSize(bytes: 12_345_678, reusableBytes: 4096))
    }

    static func state(_ snapshot: DashboardSnapshot = snapshot(), readOnly: Bool = false) -> ConsoleState {
        var state = ConsoleState(readOnly: readOnly)
        state.apply(snapshot)
        return state
    }
}
