import Foundation
import HooklineCore
import HooklineStores
import HooklineTestSupport
import Synchronization
import Testing

/// What every store must do, run against SQLite and PostgreSQL alike: the rules the dispatcher, the
/// console and the CLI rely on, and what several dispatchers on one database rely on.
@Suite struct StoreContractTests {
    static let data = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))

    /// A new database of the back end, a store on it, and operations as the CLI.
    func withStore(_ backend: StoreBackend, _ body: (TestDatabase, any HooklineStore, Operations) async throws -> Void) async throws {
        try await TestDatabase.withStore(backend, body)
    }

    /// The counts a store keeps against the deliveries it lists, per status, before and after the
    /// counts are folded (PostgreSQL folds its appended deltas when leases are recovered).
    func expectCountsExact(_ store: any HooklineStore, _ comment: Comment = "") async throws {
        for pass in 0..<2 {
            for status in DeliveryStatus.allCases {
                let real = try await store.deliveries(DeliveryQuery(status: status, limit: 1_000_000)).count
                #expect(try await store.countDeliveries(status: status, endpointID: nil) == real, "\(status), pass \(pass) \(comment)")
            }
            _ = try await store.recoverExpiredLeases(now: Date())
        }
    }

    func emit(_ operations: Operations, _ count: Int) async throws -> [String] {
        var ids: [String] = []
        for _ in 0..<count { ids.append(try await operations.emit(type: "case.created", data: Self.data).summary.event.id) }
        return ids
    }

    func result(_ delivery: ClaimedDelivery, status: Int?, at: Date) -> AttemptResult {
        AttemptResult(
            delivery: delivery,
            attempt: Attempt(deliveryID: delivery.id, number: delivery.attempts + 1, trigger: .scheduled, startedAt: at, durationMs: 5,
                             statusCode: status, errorClass: status == 200 ? nil : "http_status", errorMessage: status == 200 ? nil : "HTTP \(status ?? 0)"),
            random: 0.5)
    }

    @Test(arguments: StoreBackend.available)
    func endpointsKeepTheirSettingsAndSecrets(_ backend: StoreBackend) async throws {
        try await withStore(backend) { database, store, operations in
            let a = try await operations.addEndpoint(url: "https://a.example.com/hook", eventTypes: .only(["case.lost"]), description: "A", rateLimit: 5)
            let b = try await operations.addEndpoint(url: "https://b.example.com/hook", secret: "a-secret-of-at-least-24-chars")
            #expect(try await store.endpoints().map(\.id) == [a.id, b.id], "oldest first")
            let rotated = try await operations.rotateSecret(id: b.id, grace: 3600)
            // Another connection, as another process, reads the same values (secrets opened with the key).
            let other = try await database.open()
            let read = try #require(try await other.endpoint(id: b.id))
            #expect(read.secret == rotated.secret)
            #expect(read.previousSecret == "a-secret-of-at-least-24-chars")
            let readA = try #require(try await other.endpoint(id: a.id))
            #expect(readA.url == a.url && readA.eventTypes == a.eventTypes && readA.rateLimit == 5 && readA.description == "A")
            #expect(readA.secret == a.secret && readA.enabled)
            #expect(abs(readA.createdAt.timeIntervalSince(a.createdAt)) < 0.001, "times are kept to the millisecond")
            try? await other.close()
            await #expect(throws: HooklineError.self) { try await operations.removeEndpoint(id: "ep_01NOSUCHENDPOINT0000000000") }
            try await operations.removeEndpoint(id: a.id)
            #expect(try await store.endpoints().map(\.id) == [b.id])
            let audit = try await store.auditEntries(limit: 10).map(\.action)
            #expect(audit.prefix(3) == ["endpoint.remove", "endpoint.rotate-secret", "endpoint.add"])
        }
    }

    @Test(arguments: StoreBackend.available)
    func ingestFansOutBySubscriptionAndIsIdempotent(_ backend: StoreBackend) async throws {
        try await withStore(backend) { _, store, operations in
            let all = try await operations.addEndpoint(url: "https://all.example.com")
            let lost = try await operations.addEndpoint(url: "https://lost.example.com", eventTypes: .only(["case.lost"]))
            let off = try await operations.addEndpoint(url: "https://off.example.com")
            _ = try await operations.disableEndpoint(id: off.id)
            let first = try await operations.emit(type: "case.created", data: Self.data, id: "evt_01M8KX60K8J43ZXDG15HWM1MPV")
            #expect(first.wasCreated)
            #expect(first.summary.deliveries == 2)
            let again = try await operations.emit(type: "case.created", data: Self.data, id: "evt_01M8KX60K8J43ZXDG15HWM1MPV")
            #expect(!again.wasCreated)
            #expect(again.summary.event.payload == first.summary.event.payload)
            let deliveries = try await store.deliveries(DeliveryQuery(eventID: first.summary.event.id))
            #expect(Set(deliveries.map(\.endpointID)) == [all.id, off.id])
            #expect(deliveries.first { $0.endpointID == off.id }?.status == .held)
            #expect(deliveries.first { $0.endpointID == all.id }?.status == .pending)
            #expect(!deliveries.contains { $0.endpointID == lost.id })
            let batch = try await operations.emitBatch([EmitRequest(type: "case.lost", data: try JSONValue.parse(#"{"case":{"id":"c"},"loss_details":{"lost_at":"x","reason":"y"}}"#)),
                                                        EmitRequest(type: "case.created", data: Self.data, id: "evt_01M8KX60K8J43ZXDG15HWM1MPV")])
            #expect(try batch[0].get().summary.deliveries == 3)
            #expect(try !batch[1].get().wasCreated)
            #expect(try await store.events(EventQuery()).count == 2)
            #expect(try await store.deliveryCounts() == DeliveryCounts(pending: 3, failed: 0, held: 2))
            #expect(try await store.countDeliveries(status: .held, endpointID: off.id) == 2)
            try await expectCountsExact(store)
        }
    }

    @Test(arguments: StoreBackend.available)
    func concurrentClaimsNeverTakeTheSameDelivery(_ backend: StoreBackend) async throws {
        try await withStore(backend) { database, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com")
            _ = try await emit(operations, 30)
            let now = Date().addingTimeInterval(1)
            let other = try await database.open()
            async let one = store.claim([ClaimRequest(endpointID: endpoint.id, limit: 12)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            async let two = other.claim([ClaimRequest(endpointID: endpoint.id, limit: 12)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "two")
            let (a, b) = try await (one, two)
            #expect(a.count == 12 && b.count == 12)
            #expect(Set(a.map(\.id)).isDisjoint(with: b.map(\.id)))
            let rest = try await other.claim([ClaimRequest(endpointID: endpoint.id, limit: 12)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "two")
            #expect(rest.count == 6)
            #expect(try await store.activeDeliveryCount() == 30)
            #expect(try await store.countDeliveries(status: .sending, endpointID: endpoint.id) == 30)
            // A delivery leased by "one" cannot be recorded by "two": the attempt is kept, the delivery is not changed.
            let foreign = try await other.record([result(a[0], status: 200, at: now)], planner: DeliveryPlanner(), owner: "two", at: now)
            #expect(foreign.isEmpty)
            #expect(try await store.delivery(id: a[0].id)?.status == .sending)
            #expect(try await store.attempts(deliveryID: a[0].id).count == 1)
            // Released ones are due again; expired leases are recovered.
            try await store.release(a.map(\.id), nextAttemptAt: now, owner: "one")
            #expect(try await store.countDeliveries(status: .pending, endpointID: nil) == 12)
            #expect(try await store.recoverExpiredLeases(now: now.addingTimeInterval(120)) == 18)
            #expect(try await store.countDeliveries(status: .pending, endpointID: nil) == 30)
            try await expectCountsExact(store)
            try? await other.close()
        }
    }

    @Test(arguments: StoreBackend.available)
    func recordingAppliesThePlanAndOneBreakerServesEveryDispatcher(_ backend: StoreBackend) async throws {
        try await withStore(backend) { database, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com")
            _ = try await emit(operations, 4)
            let now = Date().addingTimeInterval(1)
            let planner = DeliveryPlanner(breaker: BreakerConfiguration(consecutiveFailures: 3, openInterval: 30))
            let other = try await database.open()
            let a = try await store.claim([ClaimRequest(endpointID: endpoint.id, limit: 2)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            let b = try await other.claim([ClaimRequest(endpointID: endpoint.id, limit: 2)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "two")
            // Two failures recorded by each dispatcher: the shared breaker counts all four and opens at the third.
            let first = try await store.record(a.map { result($0, status: 500, at: now) }, planner: planner, owner: "one", at: now)
            #expect(first.allSatisfy { $0.plan.status == .pending })
            #expect(first.last?.breaker.consecutiveFailures == 2)
            let second = try await other.record(b.map { result($0, status: 500, at: now) }, planner: planner, owner: "two", at: now)
            #expect(second.first?.plan.transition == .opened)
            let breaker = try #require(try await store.breakers().first)
            #expect(breaker.state == .open)
            #expect(breaker.consecutiveFailures == 4)
            // One probe for the whole cluster once the probe time has come; a stale probe is taken over.
            let probeAt = try #require(breaker.nextProbeAt)
            async let won1 = store.markProbe(endpointID: endpoint.id, at: probeAt, takeOverAfter: 60)
            async let won2 = other.markProbe(endpointID: endpoint.id, at: probeAt, takeOverAfter: 60)
            let winners = try await [won1, won2].filter { $0 }
            #expect(winners.count == 1)
            #expect(try await store.markProbe(endpointID: endpoint.id, at: probeAt.addingTimeInterval(61), takeOverAfter: 60))
            // An operator's reset closes it for everyone and makes the held-back deliveries due.
            _ = try await operations.resetBreaker(endpointID: endpoint.id)
            #expect(try await other.breakers().first?.state == .closed)
            #expect(try await other.nextDueAt().map { $0 <= Date().addingTimeInterval(1) } == true)
            try? await other.close()
        }
    }

    @Test(arguments: StoreBackend.available)
    func aRateLimitHoldsForAllDispatchersTogether(_ backend: StoreBackend) async throws {
        try await withStore(backend) { database, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com", rateLimit: 4)
            _ = try await emit(operations, 40)
            let now = Date().addingTimeInterval(1)
            let other = try await database.open()
            let request = [ClaimRequest(endpointID: endpoint.id, limit: 20)]
            async let one = store.claim(request, now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            async let two = other.claim(request, now: now, leaseUntil: now.addingTimeInterval(60), owner: "two")
            let (a, b) = try await (one, two)
            #expect(a.count + b.count == 4, "one second's burst for both together: \(a.count) + \(b.count)")
            // Half a second later: two more tokens, whoever asks.
            let later = try await other.claim(request, now: now.addingTimeInterval(0.5), leaseUntil: now.addingTimeInterval(60), owner: "two")
            #expect(later.count == 2)
            let none = try await store.claim(request, now: now.addingTimeInterval(0.5), leaseUntil: now.addingTimeInterval(60), owner: "one")
            #expect(none.isEmpty)
            try? await other.close()
        }
    }

    @Test(arguments: StoreBackend.available)
    func failuresHoldsAndRedeliveryKeepTheCountsTrue(_ backend: StoreBackend) async throws {
        try await withStore(backend) { _, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com")
            _ = try await emit(operations, 3)
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim([ClaimRequest(endpointID: endpoint.id, limit: 3)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0]))
            let recorded = try await store.record([result(claimed[0], status: 500, at: now), result(claimed[1], status: 410, at: now), result(claimed[2], status: 200, at: now)],
                                                  planner: planner, owner: "one", at: now)
            #expect(recorded.map(\.plan.status) == [.failed, .held, .succeeded])
            #expect(try await store.endpoint(id: endpoint.id)?.enabled == false, "410 disables the endpoint")
            #expect(try await store.deliveryCounts() == DeliveryCounts(pending: 0, failed: 1, held: 1))
            #expect(try await store.failedDeliveryIDs(endpointID: endpoint.id, since: nil) == [claimed[0].id])
            let again = try await operations.redeliver([claimed[0].id, claimed[2].id, "dlv_01NOSUCHDELIVERY000000000"])
            #expect(again.requeued == [claimed[0].id, claimed[2].id])
            #expect(again.skipped.map(\.reason) == ["no such delivery"])
            #expect(try await store.deliveryCounts() == DeliveryCounts(pending: 2, failed: 0, held: 1))
            let change = try await operations.enableEndpoint(id: endpoint.id)
            #expect(change.movedDeliveries == 1)
            #expect(try await store.deliveryCounts() == DeliveryCounts(pending: 3, failed: 0, held: 0))
            let stats = try await store.endpointStats(since: now.addingTimeInterval(-60))
            #expect(stats[endpoint.id] == EndpointStats(attempts: 3, successes: 1, p95LatencyMs: 5))
            #expect(try await store.recentAttempts(endpointID: endpoint.id, limit: 10).count == 3)
            try await expectCountsExact(store)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aDisableRecordedInABatchHoldsTheBatchsRetriesToo(_ backend: StoreBackend) async throws {
        try await withStore(backend) { _, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com")
            _ = try await emit(operations, 3)
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim([ClaimRequest(endpointID: endpoint.id, limit: 2)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            // A retry planned first, then a 410 that disables the endpoint, in one batch.
            let recorded = try await store.record([result(claimed[0], status: 500, at: now), result(claimed[1], status: 410, at: now)],
                                                  planner: DeliveryPlanner(retry: RetryPolicy(schedule: [0, 60])), owner: "one", at: now)
            #expect(recorded.map(\.plan.status) == [.pending, .held])
            #expect(try await store.deliveryCounts() == DeliveryCounts(pending: 0, failed: 0, held: 3), "nothing stays pending on a disabled endpoint")
            #expect(try await store.delivery(id: claimed[0].id)?.status == .held)
            try await expectCountsExact(store)
        }
    }

    @Test(arguments: StoreBackend.available)
    func successRatesAndP95LatenciesAreTheSameOnBothBackEnds(_ backend: StoreBackend) async throws {
        try await withStore(backend) { _, store, operations in
            let slow = try await operations.addEndpoint(url: "https://slow.example.com")
            let fast = try await operations.addEndpoint(url: "https://fast.example.com", eventTypes: .only(["case.lost"]))
            _ = try await emit(operations, 20)
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim([ClaimRequest(endpointID: slow.id, limit: 20)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            // Durations 20, 19, … 1 ms; every fourth answer a 500.
            let results = claimed.enumerated().map { index, delivery in
                AttemptResult(delivery: delivery, attempt: Attempt(
                    deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 20 - index,
                    statusCode: index % 4 == 0 ? 500 : 200, errorClass: index % 4 == 0 ? "http_status" : nil), random: 0.5)
            }
            _ = try await store.record(results, planner: DeliveryPlanner(), owner: "one", at: now)
            let stats = try await store.endpointStats(since: now.addingTimeInterval(-60))
            #expect(stats[slow.id] == EndpointStats(attempts: 20, successes: 15, p95LatencyMs: 19), "percentile_disc(0.95) of 1…20 is 19")
            #expect(stats[fast.id] == nil, "no attempts, no figures")
            #expect(EndpointStats.p95([]) == nil && EndpointStats.p95([7]) == 7 && EndpointStats.p95(Array(1...100).shuffled()) == 95)
            let frame = try await store.consoleFrame(eventsLimit: 1, failedLimit: 1, since: now.addingTimeInterval(-60))
            #expect(frame.stats == stats, "the console frame reads the same figures")
        }
    }

    @Test(arguments: StoreBackend.available)
    func theConsoleFrameAndItsChangeToken(_ backend: StoreBackend) async throws {
        try await withStore(backend) { database, store, operations in
            _ = try await operations.addEndpoint(url: "https://a.example.com")
            let watcher = try await database.open()
            let before = try await watcher.changeToken()
            _ = try await emit(operations, 5)
            #expect(try await watcher.changeToken() != before, "a commit by another connection changes the token")
            let frame = try await watcher.consoleFrame(eventsLimit: 3, failedLimit: 10, since: Date().addingTimeInterval(-3600))
            #expect(frame.events.count == 3)
            #expect(frame.endpoints.count == 1)
            #expect(frame.counts.pending == 5)
            #expect(frame.storage.bytes > 0)
            try? await watcher.close()
        }
    }

    @Test(arguments: StoreBackend.available)
    func testSendsAndPruningKeepUnfinishedWork(_ backend: StoreBackend) async throws {
        try await withStore(backend) { _, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com")
            let ids = try await emit(operations, 4)
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim([ClaimRequest(endpointID: endpoint.id, limit: 2)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "one")
            _ = try await store.record(claimed.map { result($0, status: 200, at: now) }, planner: DeliveryPlanner(), owner: "one", at: now)
            try await store.recordTestSend(
                TestSend(endpointID: endpoint.id, eventID: "evt_test", eventType: "case.created", startedAt: now, durationMs: 3, statusCode: 204),
                audit: AuditEntry(at: now, actor: .cli, action: "endpoint.test", targetIDs: [endpoint.id]))
            #expect(try await store.testSends(endpointID: endpoint.id, limit: 5).first?.statusCode == 204)
            let rule = PruneRule(cutoff: now.addingTimeInterval(60))
            let dry = try await store.prune(rule, after: nil, limit: 100, dryRun: true)
            #expect(dry.counts == PruneCounts(events: 2, deliveries: 2, attempts: 2, testSends: 1, keptEvents: 2))
            #expect(try await store.events(EventQuery()).count == 4, "a dry run removes nothing")
            let real = try await store.prune(rule, after: nil, limit: 100, dryRun: false)
            #expect(real.counts == dry.counts)
            let left = Set(try await store.events(EventQuery()).map(\.event.id))
            #expect(left == Set(ids).subtracting(claimed.map(\.eventID)))
            #expect(try await store.deliveryCounts().pending == 2)
            #expect(try await store.testSends(endpointID: endpoint.id, limit: 5).isEmpty)
            try await expectCountsExact(store)
        }
    }
}
