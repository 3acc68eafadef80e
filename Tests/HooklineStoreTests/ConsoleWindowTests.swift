import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

extension AtScale {
    /// The console frame over a thousand endpoints, on both back ends: it reads a window of them, the
    /// ones that need an operator first, never the whole list.
    @Suite struct ConsoleWindowTests {
        static let created = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))

        @Test(arguments: StoreBackend.available)
        func openBreakersComeFirstAndTheRestInPagesTheOperatorScrollsTo(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                var endpoints: [Endpoint] = []
                for index in 0..<1000 {
                    endpoints.append(try await operations.addEndpoint(url: "https://customer-\(index).example.com/hook", description: "customer \(index)"))
                }
                _ = try await operations.emit(type: "case.created", data: Self.created)
                // Three endpoints far down the id order fail until their breakers open.
                let broken = [endpoints[997], endpoints[640], endpoints[512]]
                let now = Date().addingTimeInterval(1)
                let claimed = try await store.claim(broken.map { ClaimRequest(endpointID: $0.id, limit: 1) }, now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
                let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0, 60]), breaker: BreakerConfiguration(consecutiveFailures: 1, openInterval: 600))
                let failures = claimed.map { delivery in
                    AttemptResult(
                        delivery: delivery,
                        attempt: Attempt(deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 5,
                                         statusCode: 503, errorClass: "http_status", errorMessage: "HTTP 503"),
                        random: 0.5)
                }
                _ = try await store.record(failures, planner: planner, owner: "t", at: now)

                let frame = try await operations.dashboard(eventsLimit: 10, failedLimit: 10, endpoints: EndpointWindow(limit: 50))
                #expect(frame.endpointTotal == 1000)
                #expect(frame.endpoints.count == 50, "a window, not the whole list")
                #expect(Set(frame.endpoints.prefix(3).map(\.endpoint.id)) == Set(broken.map(\.id)), "open breakers first")
                #expect(frame.endpoints.prefix(3).allSatisfy { $0.breaker.state == .open })
                #expect(frame.openBreakers == 3)
                let rest = frame.endpoints.dropFirst(3).map(\.endpoint.id)
                #expect(rest == endpoints.map(\.id).filter { id in !broken.contains { $0.id == id } }.sorted().prefix(47).map { $0 }, "then the others in id order")

                // Scrolling further reads a larger window; a filter finds one customer among all of them.
                let wider = try await operations.dashboard(eventsLimit: 10, failedLimit: 10, endpoints: EndpointWindow(limit: 400))
                #expect(wider.endpoints.count == 400)
                let found = try await operations.dashboard(eventsLimit: 10, failedLimit: 10, endpoints: EndpointWindow(limit: 50, filter: "Customer-873."))
                #expect(found.endpoints.map(\.endpoint.id).contains(endpoints[873].id))
                #expect(found.endpoints.count == 4, "the three that need an operator, and the one that matches")
            }
        }

        @Test(arguments: StoreBackend.available)
        func theAttemptsViewShowsTheHotEndpointBesideAThousandQuietOnes(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                _ = try await operations.addTenant(id: "hot")
                _ = try await operations.addTenant(id: "quiet")
                let hot = try await operations.addEndpoint(url: "https://hot.example.com/hook", tenant: "hot")
                let few = [try await operations.addEndpoint(url: "https://quiet-a.example.com/hook", tenant: "quiet"),
                           try await operations.addEndpoint(url: "https://quiet-b.example.com/hook", tenant: "quiet")]
                var quiet: [Endpoint] = []
                for index in 0..<1000 {
                    quiet.append(try await operations.addEndpoint(url: "https://quiet-\(index).example.com/hook"))
                }
                _ = try await operations.emit(type: "case.created", data: Self.created)
                for _ in 0..<100 { _ = try await operations.emit(type: "case.created", data: Self.created, tenant: "hot") }
                for _ in 0..<3 { _ = try await operations.emit(type: "case.created", data: Self.created, tenant: "quiet") }
                let now = Date().addingTimeInterval(1)
                let planner = DeliveryPlanner()
                // Every quiet endpoint answers once, 30 s ago; the hot one a hundred times, now.
                let quietClaims = try await store.claim(quiet.map { ClaimRequest(endpointID: $0.id, limit: 1) }, now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
                #expect(quietClaims.count == 1000)
                _ = try await store.record(quietClaims.map { Self.success($0, at: now.addingTimeInterval(-30)) }, planner: planner, owner: "t", at: now)
                // The quiet tenant's two endpoints answered three times each, a minute ago and before.
                let fewClaims = try await store.claim(few.map { ClaimRequest(endpointID: $0.id, limit: 3) }, now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
                #expect(fewClaims.count == 6)
                _ = try await store.record(fewClaims.enumerated().map { Self.success($1, at: now.addingTimeInterval(-60 - Double($0))) }, planner: planner, owner: "t", at: now)
                let hotClaims = try await store.claim([ClaimRequest(endpointID: hot.id, limit: 100)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
                #expect(hotClaims.count == 100)
                _ = try await store.record(hotClaims.enumerated().map { Self.success($1, at: now.addingTimeInterval(Double($0) / 1000)) }, planner: planner, owner: "t", at: now)

                let frame = try await operations.dashboard(eventsLimit: 10, failedLimit: 10, attemptsLimit: 40, endpoints: EndpointWindow(limit: 50))
                #expect(frame.attempts.count == 40)
                #expect(frame.attempts.allSatisfy { $0.endpointID == hot.id && $0.tenant == "hot" }, "the newest attempts are the hot endpoint's")
                let times = frame.attempts.map(\.attempt.startedAt)
                #expect(times == times.sorted(by: >), "newest first")
                #expect(frame.perSecond.reduce(0) { $0 + $1.attempts } == 1106, "every attempt of the last two minutes, per second")
                #expect(frame.perSecond.count <= 9)

                // A tenant of few endpoints: its attempts merged from each endpoint's newest, in time order.
                let quietTenant = try await operations.dashboard(
                    eventsLimit: 10, failedLimit: 10, attemptsLimit: 4, endpoints: EndpointWindow(limit: 50, tenant: "quiet"))
                #expect(quietTenant.attempts.count == 4)
                #expect(quietTenant.attempts.allSatisfy { $0.tenant == "quiet" })
                #expect(quietTenant.attempts.map { Int($0.attempt.startedAt.timeIntervalSince(now).rounded()) } == [-60, -61, -62, -63],
                        "newest first across both endpoints")
                #expect(Set(quietTenant.attempts.map(\.endpointID)) == Set(few.map(\.id)))

                let quietFrame = try await operations.dashboard(
                    eventsLimit: 10, failedLimit: 10, attemptsLimit: 40, endpoints: EndpointWindow(limit: 50, tenant: Tenant.defaultID))
                #expect(quietFrame.attempts.count == 40)
                #expect(quietFrame.attempts.allSatisfy { $0.endpointID != hot.id && $0.tenant == Tenant.defaultID }, "scoped: the quiet tenant's only")

                let recent = try await operations.dashboard(
                    eventsLimit: 10, failedLimit: 10, attemptsLimit: 200, since: now.addingTimeInterval(-10), endpoints: EndpointWindow(limit: 50))
                #expect(recent.attempts.count == 100, ":since 10s: the hot endpoint's hundred, not the quiet ones' of 30 s ago")
                let quietRecent = try await operations.dashboard(
                    eventsLimit: 10, failedLimit: 10, attemptsLimit: 40, since: now.addingTimeInterval(-10), endpoints: EndpointWindow(limit: 50, tenant: Tenant.defaultID))
                #expect(quietRecent.attempts.isEmpty)
            }
        }

        static func success(_ delivery: ClaimedDelivery, at: Date) -> AttemptResult {
            AttemptResult(
                delivery: delivery,
                attempt: Attempt(deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: at, durationMs: 5, statusCode: 200),
                random: 0.5)
        }
    }
}
