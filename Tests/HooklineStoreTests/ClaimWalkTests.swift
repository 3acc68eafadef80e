import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

extension AtScale {
    /// Claims at the shape of production, on both back ends: many endpoints, most with nothing due, a
    /// few with backlogs. A claim takes what is due wherever it is, round-robin, within the budget.
    @Suite struct ClaimWalkTests {
        static let created = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))
        static let lost = try! JSONValue.parse(Array(EventCatalog.type(named: "case.lost")!.exampleData.utf8))


        func addEndpoints(_ operations: Operations, _ count: Int, types: EventTypeSelection = .all) async throws -> [Endpoint] {
            var endpoints: [Endpoint] = []
            for index in 0..<count {
                endpoints.append(try await operations.addEndpoint(url: "https://customer-\(index).example.com/hook", eventTypes: types))
            }
            return endpoints
        }

        func plan(budget: Int = 256, after: String? = nil, rooms: [String: Int] = [:]) -> ClaimPlan {
            ClaimPlan(budget: budget, capacity: 24, rooms: rooms, after: after)
        }

        /// The bug this replaces: lanes were walked in id order and each reserved 24 of the 256, so the
        /// endpoints after the eleventh were never asked for.
        @Test(arguments: StoreBackend.available)
        func successiveClaimsReachEveryOneOfFifteenHundredEndpoints(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                let endpoints = try await addEndpoints(operations, 1500)
                let event = try await operations.emit(type: "case.created", data: Self.created)
                #expect(event.summary.deliveries == 1500)
                let now = Date().addingTimeInterval(1)
                var cursor: String?
                var seen: [String: Int] = [:]
                var sizes: [Int] = []
                for _ in 0..<10 {
                    let batch = try await store.claim(plan(after: cursor), now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
                    if batch.deliveries.isEmpty { break }
                    sizes.append(batch.deliveries.count)
                    for delivery in batch.deliveries { seen[delivery.endpointID, default: 0] += 1 }
                    cursor = batch.cursor
                }
                #expect(sizes == [256, 256, 256, 256, 256, 220], "each claim fills its budget from what is due")
                #expect(seen.count == endpoints.count, "every endpoint claimed")
                #expect(seen.values.allSatisfy { $0 == 1 }, "none claimed twice")
                #expect(try await store.countDeliveries(status: .sending, endpointID: nil) == 1500)
            }
        }

        @Test(arguments: StoreBackend.available)
        func aBacklogTakesItsLaneAndNoMoreWhileQuietEndpointsAreServedInTheSameClaim(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                let hot = try await operations.addEndpoint(url: "https://hot.example.com/hook", eventTypes: .only(["case.created"]))
                let quiet = try await addEndpoints(operations, 100, types: .only(["case.lost"]))
                for _ in 0..<4 {
                    _ = try await operations.emitBatch((0..<500).map { _ in EmitRequest(type: "case.created", data: Self.created) })
                }
                _ = try await operations.emit(type: "case.lost", data: Self.lost)
                let now = Date().addingTimeInterval(1)
                let batch = try await store.claim(plan(), now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
                let byEndpoint = Dictionary(grouping: batch.deliveries, by: \.endpointID)
                #expect(byEndpoint[hot.id]?.count == 24, "the hot endpoint gets one lane's worth")
                #expect(Set(quiet.map(\.id)).isSubset(of: byEndpoint.keys), "every quiet endpoint in the first claim")
                // The dispatcher's lane for the hot endpoint is full: the next claim gives it nothing.
                let more = try await store.claim(plan(after: batch.cursor, rooms: [hot.id: 0]), now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
                #expect(more.deliveries.isEmpty)
                #expect(try await store.countDeliveries(status: .pending, endpointID: hot.id) == 2000 - 24)
            }
        }

        @Test(arguments: StoreBackend.available)
        func openBreakersGetNothingAndADueProbeGetsOne(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                let endpoints = try await addEndpoints(operations, 30)
                for _ in 0..<3 { _ = try await operations.emit(type: "case.created", data: Self.created) }
                let now = Date().addingTimeInterval(1)
                let broken = endpoints[7]
                // Open the breaker of one endpoint by recording failures for it.
                let first = try await store.claim([ClaimRequest(endpointID: broken.id, limit: 3)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
                let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0, 0, 0, 0]), breaker: BreakerConfiguration(consecutiveFailures: 3, openInterval: 30))
                let recorded = try await store.record(first.map { failure($0, at: now) }, planner: planner, owner: "one", at: now)
                #expect(recorded.last?.breaker.state == .open)
                let probeAt = try #require(recorded.last?.breaker.nextProbeAt)
                let batch = try await store.claim(plan(), now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
                #expect(batch.deliveries.count == 29 * 3)
                #expect(!batch.deliveries.contains { $0.endpointID == broken.id }, "nothing while the breaker is open")
                let probe = try await store.claim(plan(), now: probeAt, leaseUntil: probeAt.addingTimeInterval(60), owner: "one")
                #expect(probe.deliveries.map(\.endpointID) == [broken.id], "one probe when its time has come")
                #expect(probe.breakers[broken.id]?.state == .open, "with the breaker, so that the dispatcher marks the probe")
            }
        }

        @Test(arguments: StoreBackend.available)
        func aWalkVisitsOnlyEndpointsWithPendingWork(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                _ = try await addEndpoints(operations, 1000, types: .only(["case.lost"]))
                let busy = try await operations.addEndpoint(url: "https://busy.example.com/hook", eventTypes: .only(["case.created"]))
                _ = try await operations.emit(type: "case.created", data: Self.created)
                let now = Date().addingTimeInterval(1)
                // A walk limited to one endpoint still finds the only one with work among a thousand.
                var limited = plan()
                limited.maxEndpoints = 1
                let batch = try await store.claim(limited, now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
                #expect(batch.deliveries.map(\.endpointID) == [busy.id])
                #expect(try await store.nextDueAt() == nil, "nothing pending any more")
            }
        }

        func failure(_ delivery: ClaimedDelivery, at: Date) -> AttemptResult {
            AttemptResult(
                delivery: delivery,
                attempt: Attempt(deliveryID: delivery.id, number: delivery.attempts + 1, trigger: .scheduled, startedAt: at, durationMs: 5,
                                 statusCode: 500, errorClass: "http_status", errorMessage: "HTTP 500"),
                random: 0.5)
        }
    }
}
