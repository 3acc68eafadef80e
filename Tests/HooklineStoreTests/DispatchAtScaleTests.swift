import Foundation
import HooklineCore
import HooklineHTTP
import HooklineTestSupport
import Synchronization
import Testing

extension AtScale {
    /// The dispatcher at the shape of production, on both back ends, over real sockets: a thousand
    /// endpoints (one per customer), a hot endpoint beside quiet ones, a few failing.
    @Suite struct DispatchAtScaleTests {
        static let created = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))
        static let lost = try! JSONValue.parse(Array(EventCatalog.type(named: "case.lost")!.exampleData.utf8))

        /// Requests in flight per path and the most seen at once.
        final class Concurrency: Sendable {
            let state = Mutex<(current: [String: Int], peak: [String: Int])>(([:], [:]))

            func enter(_ path: String) {
                state.withLock { state in
                    state.current[path, default: 0] += 1
                    state.peak[path] = max(state.peak[path] ?? 0, state.current[path] ?? 0)
                }
            }

            func leave(_ path: String) {
                state.withLock { $0.current[path, default: 0] -= 1 }
            }

            var peak: Int { state.withLock { $0.peak.values.max() ?? 0 } }
        }

        func withStore(_ backend: StoreBackend, _ body: (any HooklineStore, Operations) async throws -> Void) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in try await body(store, operations) }
        }

        /// A dispatcher with 64 requests in flight in all: many endpoints, not a load test, so that a
        /// loaded CI machine does not turn slow answers into failures. A healthy endpoint's transient
        /// failures are retried and its breaker (5 in a row) closes again after a second; `strict`
        /// opens a breaker at the third failure and keeps it open, for the failing endpoints' test.
        func dispatcher(_ store: any HooklineStore, schedule: [TimeInterval] = [0, 0.2, 1, 2, 4], strict: Bool = false) -> (Dispatcher, NIOHTTPTransport) {
            let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 10, connectionsPerHost: 64)
            let breaker = strict ? BreakerConfiguration(consecutiveFailures: 3, openInterval: 600) : BreakerConfiguration(consecutiveFailures: 5, openInterval: 1)
            let configuration = DispatcherConfiguration(
                planner: DeliveryPlanner(retry: RetryPolicy(schedule: schedule), breaker: breaker), totalConcurrency: 64,
                requestTimeout: 15, lease: 40, pollInterval: 0.05, leaseRecoveryInterval: 1, refreshInterval: 0.2)
            return (Dispatcher(store: store, transport: transport, configuration: configuration), transport)
        }

        /// Runs `body` and fails (instead of hanging the suite) when it takes longer than `limit`: the
        /// bug this guards against made `--drain` run forever.
        func within(_ limit: Duration, _ comment: Comment, _ body: @escaping @Sendable () async throws -> Void) async throws {
            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await body(); return true }
                group.addTask { try await Task.sleep(for: limit); return false }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(finished, comment)
        }

        @Test(arguments: StoreBackend.available)
        func everyOneOfAThousandEndpointsReceivesEveryEventAndDrainEnds(_ backend: StoreBackend) async throws {
            let concurrency = Concurrency()
            let receiver = try await ScriptedReceiver { request, _ in
                concurrency.enter(request.path)
                defer { concurrency.leave(request.path) }
                try? await Task.sleep(for: .milliseconds(2))
                return .ok
            }
            try await withStore(backend) { store, operations in
                var endpoints: [Endpoint] = []
                for index in 0..<1000 {
                    endpoints.append(try await operations.addEndpoint(url: receiver.url("/customer/\(index)")))
                }
                var events: [String] = []
                for _ in 0..<3 { events.append(try await operations.emit(type: "case.created", data: Self.created).summary.event.id) }
                let (dispatcher, transport) = dispatcher(store)
                try await within(.seconds(240), "serve --drain ends once 3,000 deliveries to 1,000 endpoints are made") {
                    try await dispatcher.run(.drain)
                }
                await dispatcher.stop()
                await transport.shutdown()
                #expect(try await store.countDeliveries(status: .succeeded, endpointID: nil) == 3000)
                var received: [String: Set<String>] = [:]
                for request in receiver.requests {
                    received[request.path, default: []].insert(request.headers["x-webhook-id"] ?? "")
                }
                let missing = (0..<1000).filter { received["/customer/\($0)"] != Set(events) }
                #expect(missing.count == 0, "endpoints that did not receive all three events, the first of them: \(missing.prefix(10))")
                #expect(concurrency.peak <= 8, "at most 8 requests in flight to one endpoint")
            }
            await receiver.stop()
        }

        @Test(arguments: StoreBackend.available)
        func aHotEndpointsBacklogLeavesAHundredQuietOnesServedAtOnce(_ backend: StoreBackend) async throws {
            // The hot receiver answers slowly, so that its backlog lasts; the quiet ones at once.
            let receiver = try await ScriptedReceiver { request, _ in
                if request.path == "/hot" { try? await Task.sleep(for: .milliseconds(10)) }
                return .ok
            }
            try await withStore(backend) { store, operations in
                _ = try await operations.addEndpoint(url: receiver.url("/hot"), eventTypes: .only(["case.created"]))
                for index in 0..<100 {
                    _ = try await operations.addEndpoint(url: receiver.url("/quiet/\(index)"), eventTypes: .only(["case.lost"]))
                }
                let backlog = 3000
                for _ in 0..<(backlog / 500) {
                    _ = try await operations.emitBatch((0..<500).map { _ in EmitRequest(type: "case.created", data: Self.created) })
                }
                let (dispatcher, transport) = dispatcher(store)
                let running = Task { try await dispatcher.run(.continuous) }
                let hotCount: @Sendable () -> Int = { receiver.requests.filter { $0.path == "/hot" }.count }
                let quietCount: @Sendable () -> Int = { receiver.requests.filter { $0.path.hasPrefix("/quiet/") }.count }
                try await within(.seconds(60), "the hot endpoint starts on its backlog") {
                    while hotCount() < 50 { try await Task.sleep(for: .milliseconds(10)) }
                }
                let hotBefore = hotCount()
                _ = try await operations.emit(type: "case.lost", data: Self.lost)
                await dispatcher.wake()
                try await within(.seconds(60), "every quiet endpoint receives its event") {
                    while quietCount() < 100 { try await Task.sleep(for: .milliseconds(5)) }
                }
                let hotAfter = hotCount()
                await dispatcher.stop()
                try await running.value
                await transport.shutdown()
                // The quiet endpoints were served while the hot one had most of its backlog still to
                // send: they did not queue behind it.
                #expect(hotAfter - hotBefore < backlog / 4, "the hot endpoint sent \(hotAfter - hotBefore) while the quiet ones waited")
                #expect(try await store.countDeliveries(status: .pending, endpointID: nil) > backlog / 2)
            }
            await receiver.stop()
        }

        @Test(arguments: StoreBackend.available)
        func threeFailingEndpointsAmongAThousandOpenTheirBreakersAndHoldNobodyUp(_ backend: StoreBackend) async throws {
            let receiver = try await ScriptedReceiver { request, _ in
                request.path.hasPrefix("/failing/") ? ScriptedReceiver.Reply(status: 503) : .ok
            }
            try await withStore(backend) { store, operations in
                var failing: [Endpoint] = []
                for index in 0..<1000 {
                    let path = index % 333 == 100 ? "/failing/\(index)" : "/customer/\(index)"
                    let endpoint = try await operations.addEndpoint(url: receiver.url(path))
                    if path.hasPrefix("/failing/") { failing.append(endpoint) }
                }
                #expect(failing.count == 3)
                for _ in 0..<5 { _ = try await operations.emit(type: "case.created", data: Self.created) }
                // Retries due at once: the breaker, not a delay, is what stops the failing ones.
                let (dispatcher, transport) = dispatcher(store, schedule: [0, 0, 0, 0, 0, 0], strict: true)
                let running = Task { try await dispatcher.run(.continuous) }
                try await within(.seconds(240), "every healthy delivery succeeds and the failing breakers open") {
                    while true {
                        let succeeded = try await store.countDeliveries(status: .succeeded, endpointID: nil)
                        let open = try await store.breakers(endpointIDs: [], orNotClosed: true).filter { $0.state == .open }
                        if succeeded == 997 * 5, open.count == 3 { return }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                await dispatcher.stop()
                try await running.value
                await transport.shutdown()
                let open = try await store.breakers(endpointIDs: [], orNotClosed: true)
                #expect(Set(open.map(\.endpointID)) == Set(failing.map(\.id)))
                for endpoint in failing {
                    let breaker = try #require(open.first { $0.endpointID == endpoint.id })
                    let openedAt = try #require(breaker.openedAt)
                    var attempts: [Attempt] = []
                    for delivery in try await store.deliveries(DeliveryQuery(endpointID: endpoint.id)) {
                        attempts += try await store.attempts(deliveryID: delivery.id)
                    }
                    #expect(attempts.count >= 3)
                    // Requests in flight when it opened are recorded after it; none was started after.
                    #expect(attempts.allSatisfy { $0.startedAt <= openedAt }, "nothing sent once the breaker opened (\(attempts.count) attempts)")
                }
            }
            await receiver.stop()
        }
    }
}
