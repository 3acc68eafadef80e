import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

/// `hookline stats`'s figures on both back ends, against the deliveries the store lists.
@Suite struct StatsContractTests {
    static let created = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))

    /// The deliveries a store lists, per status, for one tenant or all.
    static func realCounts(_ store: any HooklineStore, tenant: String?) async throws -> [DeliveryStatus: Int] {
        var counts: [DeliveryStatus: Int] = [:]
        for status in DeliveryStatus.allCases {
            counts[status] = try await store.deliveries(DeliveryQuery(status: status, tenant: tenant, limit: 1_000_000)).count
        }
        return counts
    }

    @Test(arguments: StoreBackend.available)
    func countsPercentilesAndTheOldestPendingFollowTheRowsAndTheTenant(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            let backlog = try await operations.addEndpoint(url: "https://backlog.example.com/hook")
            let slow = try await operations.addEndpoint(url: "https://slow.acme.example/hook", tenant: "acme")
            let paused = try await operations.addEndpoint(url: "https://paused.acme.example/hook", tenant: "acme")
            // The default tenant's backlog is older than anything of acme's.
            let first = try await operations.emit(type: "case.created", data: Self.created).summary.event.id
            for _ in 0..<4 { _ = try await operations.emit(type: "case.created", data: Self.created) }
            for _ in 0..<20 { _ = try await operations.emit(type: "case.created", data: Self.created, tenant: "acme") }
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim([ClaimRequest(endpointID: slow.id, limit: 20)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
            #expect(claimed.count == 20)
            // Durations 20, 19, … 1 ms; every fourth answer a 500, which leaves that delivery pending a retry.
            let results = claimed.enumerated().map { index, delivery in
                AttemptResult(delivery: delivery, attempt: Attempt(
                    deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 20 - index,
                    statusCode: index % 4 == 0 ? 500 : 200, errorClass: index % 4 == 0 ? "http_status" : nil), random: 0.5)
            }
            _ = try await store.record(results, planner: DeliveryPlanner(), owner: "t", at: now)
            _ = try await operations.disableEndpoint(id: paused.id)

            let acme = try await store.stats(StatsQuery(tenant: "acme", since: now.addingTimeInterval(-60)), now: now)
            #expect(acme.deliveries == [.pending: 5, .sending: 0, .succeeded: 15, .failed: 0, .held: 20])
            #expect(acme.deliveries == (try await Self.realCounts(store, tenant: "acme")))
            #expect(acme.attempts == AttemptFigures(attempts: 20, successes: 15, latency: LatencyPercentiles(p50: 10, p95: 19, p99: 20)),
                    "percentile_disc of 1…20 at 0.5, 0.95 and 0.99")
            #expect(acme.oldestPending?.deliveryID == claimed[0].id, "acme's first event failed and waits for its retry")
            #expect(acme.endpoints.map(\.endpointID) == [slow.id, paused.id].sorted())
            let slowLine = try #require(acme.endpoints.first { $0.endpointID == slow.id })
            #expect(slowLine.deliveries[.succeeded] == 15 && slowLine.deliveries[.pending] == 5 && slowLine.url == slow.url)
            #expect(slowLine.attempts == acme.attempts)
            #expect(acme.endpoints.first { $0.endpointID == paused.id }?.attempts == AttemptFigures())

            let all = try await store.stats(StatsQuery(since: now.addingTimeInterval(-60)), now: now)
            #expect(all.deliveries == (try await Self.realCounts(store, tenant: nil)))
            #expect(all.deliveries[.pending] == 10 && all.totalDeliveries == 45)
            let firstDelivery = try await store.deliveries(DeliveryQuery(eventID: first, limit: 1)).first
            #expect(all.oldestPending?.deliveryID == firstDelivery?.id && all.oldestPending?.endpointID == backlog.id)
            #expect(all.attempts == acme.attempts, "the default tenant's endpoint made no attempt")

            // Attempts older than the window count in delivery figures only.
            let later = try await store.stats(StatsQuery(tenant: "acme", since: now.addingTimeInterval(1)), now: now)
            #expect(later.attempts == AttemptFigures() && later.deliveries == acme.deliveries)
            #expect(LatencyPercentiles([]) == nil && LatencyPercentiles([7]) == LatencyPercentiles(p50: 7, p95: 7, p99: 7))
        }
    }
}

extension AtScale {
    /// Stats over a thousand quiet endpoints, a hot one and three with open breakers, on both back ends.
    @Suite struct StatsAtScaleTests {
        @Test(arguments: StoreBackend.available)
        func aThousandQuietEndpointsAHotOneAndThreeOpenBreakers(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                _ = try await operations.addTenant(id: "hot")
                let hot = try await operations.addEndpoint(url: "https://hot.example.com/hook", tenant: "hot")
                var quiet: [Endpoint] = []
                for index in 0..<1000 {
                    quiet.append(try await operations.addEndpoint(url: "https://quiet-\(index).example.com/hook"))
                }
                _ = try await operations.emit(type: "case.created", data: StatsContractTests.created)
                for _ in 0..<200 { _ = try await operations.emit(type: "case.created", data: StatsContractTests.created, tenant: "hot") }
                let now = Date().addingTimeInterval(1)
                let broken = [quiet[997], quiet[640], quiet[512]]
                let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0, 60]), breaker: BreakerConfiguration(consecutiveFailures: 1, openInterval: 600))
                let failing = try await store.claim(broken.map { ClaimRequest(endpointID: $0.id, limit: 1) }, now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
                _ = try await store.record(failing.map { delivery in
                    AttemptResult(delivery: delivery, attempt: Attempt(
                        deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 900,
                        statusCode: 503, errorClass: "http_status", errorMessage: "HTTP 503"), random: 0.5)
                }, planner: planner, owner: "t", at: now)
                let hotClaims = try await store.claim([ClaimRequest(endpointID: hot.id, limit: 150)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
                _ = try await store.record(hotClaims.map { delivery in
                    AttemptResult(delivery: delivery, attempt: Attempt(
                        deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 4, statusCode: 200), random: 0.5)
                }, planner: planner, owner: "t", at: now)

                let all = try await store.stats(StatsQuery(since: now.addingTimeInterval(-60)), now: now)
                #expect(all.deliveries == (try await StatsContractTests.realCounts(store, tenant: nil)))
                #expect(all.totalDeliveries == 1200)
                #expect(all.endpoints.count == 1001, "every endpoint with a delivery, the hot one included")
                #expect(Set(all.endpoints.prefix(3).map(\.endpointID)) == Set(broken.map(\.id)), "open breakers first")
                #expect(Set(all.breakers.map(\.endpointID)) == Set(broken.map(\.id)) && all.breakers.allSatisfy { $0.state == .open })
                #expect(all.attempts.attempts == 153 && all.attempts.successes == 150)
                #expect(all.attempts.latency == LatencyPercentiles(p50: 4, p95: 4, p99: 900))

                let scoped = try await store.stats(StatsQuery(tenant: "hot", since: now.addingTimeInterval(-60)), now: now)
                #expect(scoped.deliveries == (try await StatsContractTests.realCounts(store, tenant: "hot")))
                #expect(scoped.deliveries[.succeeded] == 150 && scoped.deliveries[.pending] == 50)
                #expect(scoped.endpoints.map(\.endpointID) == [hot.id])
                #expect(scoped.breakers.isEmpty, "the other tenant's breakers are not this one's")
                #expect(scoped.attempts == AttemptFigures(attempts: 150, successes: 150, latency: LatencyPercentiles(p50: 4, p95: 4, p99: 4)))
            }
        }
    }
}
