import Foundation
import HooklineCore
import HooklineStores
import HooklineTestSupport
import Testing

/// Tenants on both back ends: fan-out stays inside a tenant, listings scope to one, and removal
/// keeps the rules (never `default`, never with work pending, endpoints only when forced).
@Suite struct TenantContractTests {
    static let data = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))

    @Test(arguments: StoreBackend.available)
    func anEventReachesOnlyItsTenantsEndpoints(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { database, store, operations in
            _ = try await operations.addTenant(id: "acme", name: "Acme Corp", metadata: ["plan": "pro"])
            _ = try await operations.addTenant(id: "globex")
            let acme = [try await operations.addEndpoint(url: "https://acme.example.com/a", tenant: "acme"),
                        try await operations.addEndpoint(url: "https://acme.example.com/b", tenant: "acme")]
            let globex = try await operations.addEndpoint(url: "https://globex.example.com/hook", tenant: "globex")
            let plain = try await operations.addEndpoint(url: "https://default.example.com/hook")
            #expect(plain.tenant == Tenant.defaultID)

            let forAcme = try await operations.emit(type: "case.created", data: Self.data, tenant: "acme")
            #expect(forAcme.summary.deliveries == 2)
            #expect(forAcme.summary.event.tenant == "acme")
            let delivered = try await store.deliveries(DeliveryQuery(eventID: forAcme.summary.event.id)).map(\.endpointID)
            #expect(Set(delivered) == Set(acme.map(\.id)), "not globex's, not default's")
            let forDefault = try await operations.emit(type: "case.created", data: Self.data)
            #expect(try await store.deliveries(DeliveryQuery(eventID: forDefault.summary.event.id)).map(\.endpointID) == [plain.id])

            // A batch: each tenant's items fan out to it; an unknown tenant refuses its items only.
            let batch = try await operations.emitBatch([
                EmitRequest(type: "case.created", data: Self.data, tenant: "globex"),
                EmitRequest(type: "case.created", data: Self.data, tenant: "initech"),
                EmitRequest(type: "case.created", data: Self.data, tenant: "acme"),
            ])
            #expect(try batch[0].get().summary.deliveries == 1)
            #expect(try batch[2].get().summary.deliveries == 2)
            guard case .failure(.invalidField(let field, let sentence)) = batch[1] else {
                Issue.record("an unknown tenant is refused: \(batch[1])")
                return
            }
            #expect(field == "tenant" && sentence.contains("'initech'"))
            await #expect(throws: HooklineError.self) { try await operations.emit(type: "case.created", data: Self.data, tenant: "initech") }
            await #expect(throws: HooklineError.self) { try await operations.emit(type: "case.created", data: Self.data, tenant: "no spaces") }
            await #expect(throws: HooklineError.self) { try await operations.addEndpoint(url: "https://x.example.com", tenant: "initech") }

            // Listings scope to a tenant; another connection reads the same.
            let other = try await database.open()
            #expect(try await other.endpoints(EndpointQuery(tenant: "acme")).map(\.id) == acme.map(\.id))
            #expect(try await other.endpoints(EndpointQuery(tenant: "globex")).map(\.id) == [globex.id])
            #expect(try await other.endpoints().count == 4)
            #expect(try await other.events(EventQuery(tenant: "acme")).count == 2)
            #expect(try await other.events(EventQuery(tenant: Tenant.defaultID)).map(\.event.id) == [forDefault.summary.event.id])
            let tenant = try #require(try await other.tenant(id: "acme"))
            #expect(tenant.name == "Acme Corp" && tenant.metadata == ["plan": "pro"])
            #expect(try await other.tenants(after: nil, limit: 10).map(\.id) == ["acme", "default", "globex"])
            #expect(try await other.tenants(after: "acme", limit: 1).map(\.id) == ["default"])
            try? await other.close()
        }
    }

    @Test(arguments: StoreBackend.available)
    func tenantsChangeAndAreRemovedOnlyWhenNothingIsLeftToDeliver(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            await #expect(throws: HooklineError.conflict("A tenant with the id 'acme' exists already; choose another id, or change that one.")) {
                try await operations.addTenant(id: "acme")
            }
            let changed = try await operations.updateTenant(id: "acme", name: "Acme", metadata: ["region": "eu"])
            #expect(try await store.tenant(id: "acme") == changed)
            let endpoint = try await operations.addEndpoint(url: "https://acme.example.com", tenant: "acme")
            let event = try await operations.emit(type: "case.created", data: Self.data, tenant: "acme")

            await #expect(throws: HooklineError.self, "default is never removed") { try await operations.removeTenant(id: Tenant.defaultID, force: true) }
            do {
                try await operations.removeTenant(id: "acme", force: true)
                Issue.record("removed with a delivery pending")
            } catch let error {
                #expect("\(error)".contains("1 deliveries pending or sending"))
            }
            _ = try await operations.disableEndpoint(id: endpoint.id)
            do {
                try await operations.removeTenant(id: "acme")
                Issue.record("removed with an endpoint, unforced")
            } catch let error {
                #expect("\(error)".contains("1 endpoints"))
            }
            #expect(try await store.endpoint(id: endpoint.id) != nil, "a refused removal changes nothing")
            #expect(try await operations.removeTenant(id: "acme", force: true) == 1)
            #expect(try await store.tenant(id: "acme") == nil)
            #expect(try await store.endpoint(id: endpoint.id) == nil)
            #expect(try await store.event(id: event.summary.event.id) == nil)
            #expect(try await store.deliveries(DeliveryQuery(limit: 100)).isEmpty)
            await #expect(throws: HooklineError.notFound(kind: "tenant", id: "acme")) { try await operations.removeTenant(id: "acme") }
            let audit = try await store.auditEntries(limit: 10)
            #expect(audit.first?.action == "tenant.remove" && audit.first?.detail == "removed with 1 endpoints")
            #expect(audit.map(\.action).contains("tenant.update") && audit.map(\.action).contains("tenant.add"))
        }
    }

    @Test(arguments: StoreBackend.available)
    func customHeadersAreKeptAndChecked(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { database, store, operations in
            let headers = [EndpointHeader(name: "X-Api-Key", value: "k-123"), EndpointHeader(name: "X-Route", value: "eu west")]
            let endpoint = try await operations.addEndpoint(url: "https://a.example.com", headers: headers)
            let other = try await database.open()
            #expect(try await other.endpoint(id: endpoint.id)?.headers == headers)
            try? await other.close()
            let changed = try await operations.setHeaders(id: endpoint.id, to: [EndpointHeader(name: "Authorization", value: "Bearer x")])
            #expect(try await store.endpoint(id: endpoint.id)?.headers == changed.headers)
            for (name, value) in [("X-Webhook-Signature", "forged"), ("content-type", "text/plain"), ("Host", "evil"), ("webhook-id", "x"),
                                  ("Bad Name", "v"), ("X-Ok", "line\r\nbreak"), ("", "v")] {
                await #expect(throws: HooklineError.self, "\(name)") {
                    try await operations.setHeaders(id: endpoint.id, to: [EndpointHeader(name: name, value: value)])
                }
            }
            await #expect(throws: HooklineError.self, "each header once") {
                try await operations.setHeaders(id: endpoint.id, to: [EndpointHeader(name: "X-A", value: "1"), EndpointHeader(name: "x-a", value: "2")])
            }
            await #expect(throws: HooklineError.self, "at most 20") {
                try await operations.setHeaders(id: endpoint.id, to: (0..<21).map { EndpointHeader(name: "X-H\($0)", value: "v") })
            }
            #expect(try await store.endpoint(id: endpoint.id)?.headers == changed.headers, "refused changes change nothing")
        }
    }

    @Test(arguments: StoreBackend.available)
    func aConsoleFrameScopedToATenantShowsOnlyItsEndpointsEventsFailuresAndBreakers(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            _ = try await operations.addTenant(id: "globex")
            let acme = try await operations.addEndpoint(url: "https://acme.example.com/a", tenant: "acme")
            let globex = try await operations.addEndpoint(url: "https://globex.example.com/hook", tenant: "globex")
            let plain = try await operations.addEndpoint(url: "https://default.example.com/hook")
            for tenant in ["acme", "globex", Tenant.defaultID] {
                _ = try await operations.emit(type: "case.created", data: Self.data, tenant: tenant)
            }
            // Acme's delivery fails for good and opens its breaker; globex's succeeds.
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim(
                [ClaimRequest(endpointID: acme.id, limit: 1), ClaimRequest(endpointID: globex.id, limit: 1)],
                now: now, leaseUntil: now.addingTimeInterval(60), owner: "test")
            let results = claimed.map { delivery in
                AttemptResult(delivery: delivery, attempt: Attempt(
                    deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 5,
                    statusCode: delivery.endpointID == acme.id ? 500 : 200, errorClass: delivery.endpointID == acme.id ? "http_status" : nil),
                    random: 0.5)
            }
            let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0]), breaker: BreakerConfiguration(consecutiveFailures: 1))
            _ = try await store.record(results, planner: planner, owner: "test", at: now)

            let all = try await store.consoleFrame(eventsLimit: 10, failedLimit: 10, since: now.addingTimeInterval(-3600))
            #expect(all.tenantCount == 3)
            #expect(Set(all.endpoints.map(\.id)) == [acme.id, globex.id, plain.id])
            #expect(all.failed.map(\.tenant) == ["acme"])
            #expect(all.events.count == 3)

            let scoped = try await store.consoleFrame(
                eventsLimit: 10, failedLimit: 10, since: now.addingTimeInterval(-3600), endpoints: EndpointWindow(tenant: "globex"))
            #expect(scoped.endpoints.map(\.id) == [globex.id], "acme's failing endpoint is not globex's business")
            #expect(scoped.endpointTotal == 1)
            #expect(scoped.failed.isEmpty)
            #expect(scoped.breakers.allSatisfy { $0.endpointID == globex.id })
            #expect(scoped.events.map(\.event.tenant) == ["globex"])

            let acmeFrame = try await store.consoleFrame(
                eventsLimit: 10, failedLimit: 10, since: now.addingTimeInterval(-3600), endpoints: EndpointWindow(tenant: "acme"))
            #expect(acmeFrame.endpoints.map(\.id) == [acme.id])
            #expect(acmeFrame.failed.map(\.delivery.endpointID) == [acme.id])
            #expect(acmeFrame.breakers.contains { $0.endpointID == acme.id && $0.state == .open })
        }
    }

    @Test(arguments: StoreBackend.available)
    func theAttemptsViewAndPerSecondActivityReadTheNewestAttemptsInTheirWindow(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            let acme = try await operations.addEndpoint(url: "https://acme.example.com/a", tenant: "acme")
            let plain = try await operations.addEndpoint(url: "https://default.example.com/hook")
            _ = try await operations.emit(type: "case.created", data: Self.data, tenant: "acme")
            _ = try await operations.emit(type: "case.lost", data: try JSONValue.parse(Array(EventCatalog.type(named: "case.lost")!.exampleData.utf8)))
            let now = Date().addingTimeInterval(1)
            let claimed = try await store.claim(
                [ClaimRequest(endpointID: acme.id, limit: 1), ClaimRequest(endpointID: plain.id, limit: 1)],
                now: now, leaseUntil: now.addingTimeInterval(60), owner: "test")
            #expect(claimed.count == 2)
            // Acme's attempt fails for good ten minutes before the default tenant's succeeds.
            let startedAt = { (delivery: ClaimedDelivery) in delivery.endpointID == acme.id ? now.addingTimeInterval(-600) : now }
            let results = claimed.map { delivery in
                AttemptResult(delivery: delivery, attempt: Attempt(
                    deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: startedAt(delivery), durationMs: 7,
                    statusCode: delivery.endpointID == acme.id ? 503 : 204, errorClass: delivery.endpointID == acme.id ? "http_status" : nil,
                    responseExcerpt: "a body the view does not read"),
                    random: 0.5)
            }
            let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0]))
            for result in results { _ = try await store.record([result], planner: planner, owner: "test", at: startedAt(result.delivery)) }

            let hour = now.addingTimeInterval(-3600)
            let frame = try await store.consoleFrame(ConsoleFrameQuery(
                eventsLimit: 10, failedLimit: 10, attemptsLimit: 10, statsSince: hour, secondsSince: now.addingTimeInterval(-120)))
            #expect(frame.attempts.map(\.endpointID) == [plain.id, acme.id], "newest first")
            #expect(frame.attempts.map(\.tenant) == [Tenant.defaultID, "acme"])
            #expect(frame.attempts.map(\.eventType) == ["case.lost", "case.created"])
            #expect(frame.attempts.map(\.attempt.statusCode) == [204, 503])
            #expect(frame.attempts.allSatisfy { $0.attempt.durationMs == 7 && $0.attempt.responseExcerpt == nil })
            #expect(frame.attempts.map(\.eventID) == claimed.sorted { startedAt($0) > startedAt($1) }.map(\.eventID))
            // Per second: only the attempt of the last two minutes, in its own second.
            #expect(frame.perSecond.map(\.attempts) == [1] && frame.perSecond.map(\.successes) == [1])
            #expect(frame.perSecond.first.map { abs($0.start.timeIntervalSince(now)) < 1 } == true)
            #expect(frame.throughput.map(\.attempts).reduce(0, +) == 2)

            let limited = try await store.consoleFrame(ConsoleFrameQuery(eventsLimit: 10, failedLimit: 10, attemptsLimit: 1, statsSince: hour))
            #expect(limited.attempts.map(\.endpointID) == [plain.id] && limited.perSecond.isEmpty)
            let scoped = try await store.consoleFrame(ConsoleFrameQuery(
                eventsLimit: 10, failedLimit: 10, attemptsLimit: 10, statsSince: hour, endpoints: EndpointWindow(tenant: "acme")))
            #expect(scoped.attempts.map(\.endpointID) == [acme.id], "another tenant's attempts are not acme's business")

            // `:since 5m`: acme's failure and attempt are older; the events are newer.
            let recent = try await store.consoleFrame(ConsoleFrameQuery(
                eventsLimit: 10, failedLimit: 10, attemptsLimit: 10, statsSince: hour, recentSince: now.addingTimeInterval(-300)))
            #expect(recent.attempts.map(\.endpointID) == [plain.id])
            #expect(recent.failed.isEmpty)
            #expect(recent.events.count == 2)
            let wider = try await store.consoleFrame(ConsoleFrameQuery(
                eventsLimit: 10, failedLimit: 10, attemptsLimit: 10, statsSince: hour, recentSince: now.addingTimeInterval(-900)))
            #expect(wider.failed.map(\.delivery.endpointID) == [acme.id] && wider.attempts.count == 2)
            let future = try await store.consoleFrame(ConsoleFrameQuery(
                eventsLimit: 10, failedLimit: 10, attemptsLimit: 10, statsSince: hour, recentSince: now.addingTimeInterval(60)))
            #expect(future.events.isEmpty && future.attempts.isEmpty && future.failed.isEmpty)
            #expect(future.endpoints.count == 2, "the window limits rows in time, not the endpoints")
        }
    }

    @Test(arguments: StoreBackend.available)
    func aTenantsDeliveriesArePagedNewestFirstAcrossItsEndpoints(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            var endpoints: [String] = []
            for index in 0..<3 { endpoints.append(try await operations.addEndpoint(url: "https://acme\(index).example.com/hook", tenant: "acme").id) }
            _ = try await operations.addEndpoint(url: "https://default.example.com/hook")
            for _ in 0..<10 {
                _ = try await operations.emit(type: "case.created", data: Self.data, tenant: "acme")
                _ = try await operations.emit(type: "case.created", data: Self.data)
            }
            let all = try await store.deliveries(DeliveryQuery(tenant: "acme", limit: 100)).map(\.id)
            #expect(all.count == 30 && all == all.sorted(by: >))
            // Merged per endpoint (3 endpoints) and walked in id order: the same pages.
            var walked: [String] = []
            var before: String?
            repeat {
                let page = try await store.deliveryPage(DeliveryQuery(tenant: "acme", before: before, limit: 7))
                walked += page.map(\.id)
                before = page.count == 7 ? page.last?.id : nil
            } while before != nil
            #expect(walked == all, "each of acme's deliveries once, newest first, none of default's")
            let failedOnly = try await store.deliveryPage(DeliveryQuery(status: .failed, tenant: "acme", limit: 7))
            #expect(failedOnly.isEmpty)
            let one = try await store.deliveryPage(DeliveryQuery(endpointID: endpoints[1], limit: 100))
            #expect(one.count == 10 && one.allSatisfy { $0.endpointID == endpoints[1] })
        }
    }
}
