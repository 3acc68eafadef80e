import Foundation
import HooklineCore
import HooklineHTTP
@testable import HooklineSQLite
import HooklineTestSupport
import Logging

/// A real store file, real operations and a dispatcher sending over real sockets to 127.0.0.1.
///
/// With a ``ManualClock``, everything schedules on it (events are emitted, attempts recorded and
/// retries, breakers and alerts timed in its time) and ``drain(_:allowPrivate:)`` and ``run``
/// let time flow: it jumps to the next deadline whenever the dispatcher is at rest, so a test of a retry
/// an hour away or a breaker's open interval waits for no wall-clock interval.
struct DispatchFixture {
    let directory: String
    let store: SQLiteStore
    let operations: Operations
    let clock: ManualClock?

    static let caseCreated: JSONValue = try! JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData)

    init(clock: ManualClock? = nil) throws {
        directory = NSTemporaryDirectory() + "hookline-dispatch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory + "/hookline.db")
        self.clock = clock
        operations = Operations(store: store, clock: clock ?? SystemClock(), actor: .cli)
    }

    /// The time on the fixture's clock.
    func now() -> Date { clock?.now() ?? Date() }

    func tearDown() {
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A configuration with a fast schedule, for tests on the wall clock that do not wait minutes.
    static func configuration(
        schedule: [TimeInterval] = [0, 0.05, 0.05, 0.05], timeout: TimeInterval = 2, breaker: BreakerConfiguration = BreakerConfiguration(),
        throttleFloor: TimeInterval = 60
    ) -> DispatcherConfiguration {
        DispatcherConfiguration(
            planner: DeliveryPlanner(retry: RetryPolicy(schedule: schedule, throttleFloor: throttleFloor), breaker: breaker),
            requestTimeout: timeout, lease: max(10, timeout * 3), pollInterval: 0.05, leaseRecoveryInterval: 1, refreshInterval: 0.1)
    }

    /// A configuration for a fixture on a manual clock: real schedules (delays of minutes and
    /// hours are free), no jitter, and a lease far longer than any test's span, so that lease
    /// recovery never takes part.
    static func manualClockConfiguration(
        schedule: [TimeInterval] = [0, 60, 300, 1800], breaker: BreakerConfiguration = BreakerConfiguration(), throttleFloor: TimeInterval = 60
    ) -> DispatcherConfiguration {
        DispatcherConfiguration(
            planner: DeliveryPlanner(retry: RetryPolicy(schedule: schedule, jitter: 0, throttleFloor: throttleFloor), breaker: breaker),
            requestTimeout: 5, lease: 365 * 86_400, pollInterval: 10, leaseRecoveryInterval: 60, refreshInterval: 0.5)
    }

    /// A dispatcher with the real transport; `allowPrivate` lets it reach the test receivers.
    func dispatcher(
        _ configuration: DispatcherConfiguration = DispatchFixture.configuration(), allowPrivate: Bool = true,
        notices: @escaping @Sendable (DispatchNotice) -> Void = { _ in }
    ) -> (Dispatcher, NIOHTTPTransport) {
        // 3 s to connect: a TLS handshake with an in-process server can take more than 1 s when the
        // whole suite shares two cores.
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: allowPrivate), connectTimeout: 3)
        var logger = Logger(label: "test.dispatcher")
        logger.logLevel = ProcessInfo.processInfo.environment["HOOKLINE_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let dispatcher = Dispatcher(
            store: store, transport: transport, clock: clock ?? SystemClock(), configuration: configuration, logger: logger, notices: notices)
        return (dispatcher, transport)
    }

    /// Runs `body`, with the fixture's manual clock (if it has one) flowing while `dispatchers`
    /// are at rest.
    func flowing<T>(_ dispatchers: [Dispatcher], _ body: () async throws -> T) async throws -> T {
        guard let clock else { return try await body() }
        return try await clock.flowing(isAtRest: {
            for dispatcher in dispatchers where await !dispatcher.isAtRest { return false }
            return true
        }, body)
    }

    /// Runs a dispatcher until nothing is pending or sending.
    func drain(_ configuration: DispatcherConfiguration = DispatchFixture.configuration(), allowPrivate: Bool = true) async throws {
        let (dispatcher, transport) = self.dispatcher(configuration, allowPrivate: allowPrivate)
        try await flowing([dispatcher]) { try await dispatcher.run(.drain) }
        await transport.shutdown()
    }

    /// Runs a dispatcher in the background until `condition` holds (checked every 20 ms, for at most
    /// `limit` seconds of real time), then stops it. Returns whether the condition was met. With
    /// `timeFlows` false, a manual clock stays where it is (the test moves it, or nothing waits).
    @discardableResult
    func run(_ configuration: DispatcherConfiguration = DispatchFixture.configuration(), allowPrivate: Bool = true, limit: TimeInterval = 30,
             timeFlows: Bool = true, notices: @escaping @Sendable (DispatchNotice) -> Void = { _ in },
             until condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let (dispatcher, transport) = self.dispatcher(configuration, allowPrivate: allowPrivate, notices: notices)
        let task = Task { try await dispatcher.run(.continuous) }
        func wait() async throws -> Bool {
            let deadline = Date().addingTimeInterval(limit)
            var met = false
            while Date() < deadline {
                if try await condition() { met = true; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            await dispatcher.stop()
            try await task.value
            return met
        }
        let met = try await timeFlows ? flowing([dispatcher]) { try await wait() } : wait()
        await transport.shutdown()
        return met
    }

    func addEndpoint(_ url: String, secret: String = "whsec-test-secret-0123456789abcdef") async throws -> Endpoint {
        try await operations.addEndpoint(url: url, secret: secret)
    }

    func emit(_ count: Int = 1) async throws -> [String] {
        var ids: [String] = []
        for _ in 0..<count {
            ids.append(try await operations.emit(type: "case.created", data: DispatchFixture.caseCreated).summary.event.id)
        }
        return ids
    }

    func deliveries(_ endpoint: Endpoint) async throws -> [Delivery] {
        try await store.deliveries(DeliveryQuery(endpointID: endpoint.id, limit: 10_000))
    }

    func attempts(_ delivery: Delivery) async throws -> [Attempt] {
        try await store.attempts(deliveryID: delivery.id)
    }
}
