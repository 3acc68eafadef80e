import Foundation
import HooklineCore
import HooklineHTTP
import HooklineTestSupport
import Logging
import Synchronization
import Testing

/// Alerts from a running dispatcher to a real alert receiver on 127.0.0.1.
@Suite(.serialized) struct AlertTests {
    /// A dispatcher whose notices go to a notifier posting to `alerts`.
    struct Harness {
        let fixture: DispatchFixture
        let alerts: ScriptedReceiver
        let notifier: AlertNotifier
        let alertTransport: NIOHTTPTransport
        let notifierTask: Task<Void, Never>

        /// A notifier on the fixture's clock: a manual one times the failure interval and the
        /// retries of a failed post.
        init(fixture: DispatchFixture, alerts: ScriptedReceiver, failureInterval: TimeInterval = 60, retryDelays: [TimeInterval] = [1, 5]) throws {
            self.fixture = fixture
            self.alerts = alerts
            alertTransport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 1)
            var logger = Logger(label: "test.alerts")
            logger.logLevel = .critical
            let notifier = AlertNotifier(
                configuration: .init(target: try AlertTarget(url: alerts.url("/services/T0/B0/secret-token")), failureInterval: failureInterval,
                                     retryDelays: retryDelays, timeout: 2),
                transport: alertTransport, clock: fixture.clock ?? SystemClock(), logger: logger)
            self.notifier = notifier
            notifierTask = Task { await notifier.run() }
        }

        /// Runs a dispatcher that reports to the notifier until `condition` holds.
        @discardableResult
        func run(_ configuration: DispatcherConfiguration, limit: TimeInterval = 20, timeFlows: Bool = true,
                 until condition: @Sendable () async throws -> Bool) async throws -> Bool {
            let notifier = self.notifier
            return try await fixture.run(configuration, limit: limit, timeFlows: timeFlows, notices: { notifier.notify($0) }, until: condition)
        }

        /// Posts what is queued and stops the notifier.
        func finish() async {
            notifier.finish()
            await notifierTask.value
            await alertTransport.shutdown()
        }

        /// The alerts received so far, parsed.
        var received: [JSONObject] { Self.parsed(alerts) }

        /// The alerts a receiver has got, parsed.
        static func parsed(_ alerts: ScriptedReceiver) -> [JSONObject] {
            alerts.requests.compactMap { request in
                guard case .object(let object)? = try? JSONValue.parse(request.body) else { return nil }
                return object
            }
        }

        func received(kind: String) -> [JSONObject] { received.filter { $0["kind"] == .string(kind) } }

        func waitFor(kind: String, count: Int = 1, limit: TimeInterval = 10) async throws {
            let deadline = Date().addingTimeInterval(limit)
            while received(kind: kind).count < count && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    static func text(_ object: JSONObject) -> String {
        if case .string(let text)? = object["text"] { return text }
        return ""
    }

    @Test func aBreakerOpeningAndClosingIsPostedWithItsFacts() async throws {
        let fixture = try DispatchFixture(clock: ManualClock())
        defer { fixture.tearDown() }
        let receiver = try await ScriptedReceiver { _, index in index < 3 ? .init(status: 500) : .ok }
        let alerts = try await ScriptedReceiver()
        let harness = try Harness(fixture: fixture, alerts: alerts)
        let endpoint = try await fixture.addEndpoint(receiver.url())
        _ = try await fixture.emit()
        let configuration = DispatchFixture.manualClockConfiguration(
            schedule: [0, 5, 5, 5, 5], breaker: BreakerConfiguration(consecutiveFailures: 3, openInterval: 30))
        let done = try await harness.run(configuration) {
            try await fixture.deliveries(endpoint).first?.status == .succeeded && harness.received(kind: "breaker_closed").count == 1
        }
        await harness.finish()
        await receiver.stop()
        await alerts.stop()

        #expect(done)
        let opened = try #require(harness.received(kind: "breaker_opened").first)
        #expect(harness.received(kind: "breaker_opened").count == 1)
        #expect(opened["endpoint_id"] == .string(endpoint.id))
        #expect(opened["endpoint_url"] == .string(receiver.url()))
        #expect(opened["consecutive_failures"] == .number(3))
        #expect(opened["reopened"] == .bool(false))
        #expect(opened["last_error"] == .string("HTTP 500"))
        #expect(Self.text(opened).contains("breaker opened for \(endpoint.id)"))
        let closed = try #require(harness.received(kind: "breaker_closed").first)
        #expect(closed["by_operator"] == .bool(false))
        #expect(Self.text(closed).contains("a probe succeeded"))
        let request = try #require(alerts.requests.first)
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.path == "/services/T0/B0/secret-token")
    }

    @Test func disablesBy410ByAutoDisableAndByAnOperatorArePosted() async throws {
        let clock = ManualClock()
        let fixture = try DispatchFixture(clock: clock)
        defer { fixture.tearDown() }
        let gone = try await ScriptedReceiver { _, _ in .init(status: 410) }
        let failing = try await ScriptedReceiver { _, _ in .init(status: 500) }
        let healthy = try await ScriptedReceiver()
        let alerts = try await ScriptedReceiver()
        let harness = try Harness(fixture: fixture, alerts: alerts)
        let goneEndpoint = try await fixture.addEndpoint(gone.url())
        let failingEndpoint = try await fixture.addEndpoint(failing.url())
        let healthyEndpoint = try await fixture.addEndpoint(healthy.url())
        _ = try await fixture.emit()
        // A failure every minute; after ten minutes of nothing but failures the endpoint is disabled.
        var configuration = DispatchFixture.manualClockConfiguration(
            schedule: [0] + Array(repeating: 60, count: 30), breaker: BreakerConfiguration(consecutiveFailures: 1000))
        configuration.planner.autoDisableAfter = 600
        let operations = fixture.operations
        let disabledByOperator = Mutex(false)
        // The clock stands still but for the steps the condition takes: the operator's change is
        // committed before the dispatcher's next look, as it is on a wall clock.
        let done = try await harness.run(configuration, timeFlows: false) {
            let delivered = try await fixture.deliveries(healthyEndpoint).first?.status == .succeeded
            if harness.received(kind: "endpoint_disabled").count < 2 {
                // Until the 410 and the ten minutes of failures have disabled two endpoints.
                if clock.sleeping > 0 { clock.advance(by: 60) }
                return false
            }
            // Once the dispatcher has seen the healthy endpoint enabled, an operator disables it.
            if delivered && !disabledByOperator.withLock({ $0 }) {
                disabledByOperator.withLock { $0 = true }
                _ = try await operations.disableEndpoint(id: healthyEndpoint.id, reason: "maintenance window")
            }
            if harness.received(kind: "endpoint_disabled").count >= 3 { return true }
            clock.advance(by: 10)
            return false
        }
        await harness.finish()
        for receiver in [gone, failing, healthy, alerts] { await receiver.stop() }

        #expect(done)
        let disabled = Dictionary(harness.received(kind: "endpoint_disabled").map { ($0["endpoint_id"]!, $0) }) { first, _ in first }
        #expect(disabled.count == 3)
        let byGone = try #require(disabled[.string(goneEndpoint.id)])
        #expect(Self.text(byGone).contains("410 Gone"))
        let byAuto = try #require(disabled[.string(failingEndpoint.id)])
        if case .string(let reason)? = byAuto["reason"] { #expect(reason.hasPrefix("auto-disabled")) } else { Issue.record("no reason") }
        let byOperator = try #require(disabled[.string(healthyEndpoint.id)])
        #expect(byOperator["reason"] == .string("maintenance window"))
        #expect(Self.text(byOperator).contains("held until it is enabled again"))
    }

    @Test func anOperatorsBreakerResetIsPosted() async throws {
        let fixture = try DispatchFixture(clock: ManualClock())
        defer { fixture.tearDown() }
        let failing = try await ScriptedReceiver { _, _ in .init(status: 503) }
        let alerts = try await ScriptedReceiver()
        let harness = try Harness(fixture: fixture, alerts: alerts)
        let endpoint = try await fixture.addEndpoint(failing.url())
        _ = try await fixture.emit()
        let configuration = DispatchFixture.manualClockConfiguration(
            schedule: [0] + Array(repeating: 5, count: 9), breaker: BreakerConfiguration(consecutiveFailures: 2, openInterval: 600))
        let operations = fixture.operations
        let reset = Mutex(false)
        let done = try await harness.run(configuration) {
            if !harness.received(kind: "breaker_opened").isEmpty && !reset.withLock({ $0 }) {
                reset.withLock { $0 = true }
                _ = try await operations.resetBreaker(endpointID: endpoint.id)
            }
            return !harness.received(kind: "breaker_closed").isEmpty
        }
        await harness.finish()
        await failing.stop()
        await alerts.stop()
        #expect(done)
        let closed = try #require(harness.received(kind: "breaker_closed").first)
        #expect(closed["by_operator"] == .bool(true))
        #expect(Self.text(closed).contains("reset by an operator"))
    }

    @Test func permanentFailuresArePostedAtMostOncePerIntervalPerEndpoint() async throws {
        let clock = ManualClock()
        let fixture = try DispatchFixture(clock: clock)
        defer { fixture.tearDown() }
        let failing = try await ScriptedReceiver { _, _ in .init(status: 500) }
        // When each alert arrived, on the test's clock.
        let arrivals = Mutex<[Date]>([])
        let alerts = try await ScriptedReceiver { _, _ in
            arrivals.withLock { $0.append(clock.now()) }
            return .ok
        }
        let harness = try Harness(fixture: fixture, alerts: alerts)
        let endpoint = try await fixture.addEndpoint(failing.url())
        // One attempt each: every failure is permanent at once, so no time need pass for them; the
        // breaker stays out of the way.
        let configuration = DispatchFixture.manualClockConfiguration(schedule: [0], breaker: BreakerConfiguration(consecutiveFailures: 1000, windowMinimumAttempts: 1000))
        _ = try await fixture.emit()
        try await harness.run(configuration, timeFlows: false) { harness.received(kind: "deliveries_failed").count == 1 }
        _ = try await fixture.emit(5)
        try await harness.run(configuration, timeFlows: false) {
            try await fixture.deliveries(endpoint).filter { $0.status == .failed }.count == 6
        }
        // The five wait, grouped, for the minute to end.
        try await waitUntil { clock.sleeping > 0 }
        #expect(harness.received(kind: "deliveries_failed").count == 1)
        clock.advance(by: 59)
        #expect(harness.received(kind: "deliveries_failed").count == 1)
        clock.advance(by: 1)
        try await harness.waitFor(kind: "deliveries_failed", count: 2, limit: 10)
        await harness.finish()
        await failing.stop()
        await alerts.stop()

        let failures = harness.received(kind: "deliveries_failed")
        #expect(failures.count == 2, "the five were one message")
        #expect(failures.first?["failed_deliveries"] == .number(1))
        #expect(failures.last?["failed_deliveries"] == .number(5))
        if case .array(let ids)? = failures.last?["delivery_ids"] { #expect(ids.count == 5) } else { Issue.record("no delivery ids") }
        #expect(Self.text(failures.last!).contains("5 deliveries to \(endpoint.id)"))
        #expect(Self.text(failures.last!).contains("hookline redeliver --endpoint \(endpoint.id) --failed"))
        let times = arrivals.withLock { $0 }
        #expect(times.count == 2)
        #expect(times[1].timeIntervalSince(times[0]) == 60, "the second message came when the interval ended")
    }

    @Test func withTheDefaultMinuteFailuresAfterTheFirstWaitAndAreFlushedAtShutdown() async throws {
        let clock = ManualClock()
        let fixture = try DispatchFixture(clock: clock)
        defer { fixture.tearDown() }
        let failing = try await ScriptedReceiver { _, _ in .init(status: 500) }
        let alerts = try await ScriptedReceiver()
        let harness = try Harness(fixture: fixture, alerts: alerts)
        let endpoint = try await fixture.addEndpoint(failing.url())
        let configuration = DispatchFixture.manualClockConfiguration(schedule: [0], breaker: BreakerConfiguration(consecutiveFailures: 1000, windowMinimumAttempts: 1000))
        _ = try await fixture.emit(10)
        // The clock stands still: the minute never ends before the notifier is stopped.
        try await harness.run(configuration, timeFlows: false) {
            try await fixture.deliveries(endpoint).filter { $0.status == .failed }.count == 10
        }
        try await harness.waitFor(kind: "deliveries_failed", count: 1)
        try await waitUntil { clock.sleeping > 0 }
        let beforeShutdown = harness.received(kind: "deliveries_failed")
        await harness.finish()
        await failing.stop()
        await alerts.stop()

        #expect(beforeShutdown.count == 1, "one message in the first minute")
        let all = harness.received(kind: "deliveries_failed")
        #expect(all.count == 2, "the rest, grouped, when the notifier stops")
        let total = all.compactMap { object -> Double? in
            if case .number(let n)? = object["failed_deliveries"] { return n }
            return nil
        }.reduce(0, +)
        #expect(total == 10)
    }

    @Test func aFailingAlertReceiverIsRetriedAndNeverHoldsUpDelivery() async throws {
        // The alert receiver fails twice, then accepts.
        let alerts = try await ScriptedReceiver { _, index in index < 2 ? .init(status: 503) : .ok }
        let clock = ManualClock()
        let harness = try Harness(fixture: try DispatchFixture(clock: clock), alerts: alerts, retryDelays: [5, 15, 60])
        defer { harness.fixture.tearDown() }
        harness.notifier.notify(.endpointDisabled(endpoint: EndpointRef(id: "ep_x", url: "https://example.com/hook"), reason: "test"))
        // The retries' 5 and 15 seconds pass on the test's clock.
        let started = clock.now()
        try await clock.flowing {
            try await harness.waitFor(kind: "endpoint_disabled", count: 3)
            // The receiver logs a request before it answers: wait for the notifier to see the answer.
            let deadline = Date().addingTimeInterval(5)
            while await harness.notifier.posted < 1 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        #expect(clock.now().timeIntervalSince(started) >= 20, "the third try waited for both delays")
        #expect(alerts.requests.count == 3)
        #expect(await harness.notifier.posted == 1)
        await harness.finish()
        await alerts.stop()

        // An alert receiver that never answers: deliveries go on regardless.
        let fixture2 = try DispatchFixture()
        defer { fixture2.tearDown() }
        let silent = RawSocketServer(.silent)
        let receiver = try await ScriptedReceiver { _, _ in .init(status: 500) }
        let endpoint = try await fixture2.addEndpoint(receiver.url())
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true))
        let notifier = AlertNotifier(
            configuration: .init(target: try AlertTarget(url: silent.url()), failureInterval: 0, retryDelays: [], timeout: 30), transport: transport)
        let notifierTask = Task { await notifier.run() }
        _ = try await fixture2.emit(20)
        let (dispatcher, dispatchTransport) = fixture2.dispatcher(DispatchFixture.configuration(schedule: [0], breaker: BreakerConfiguration(consecutiveFailures: 1000, windowMinimumAttempts: 1000)))
        try await dispatcher.run(.drain)
        await dispatchTransport.shutdown()
        #expect(try await fixture2.deliveries(endpoint).allSatisfy { $0.status == .failed })
        // The first alert is still waiting for its answer (neither posted nor given up at its time
        // limit): delivery finished without waiting for it.
        #expect(await notifier.posted == 0)
        #expect(await notifier.abandoned == 0)
        notifierTask.cancel()
        notifier.finish()
        await notifierTask.value
        await transport.shutdown()
        await receiver.stop()
        silent.stop()
    }

    /// The failure interval passes on a clock the test moves: no wall-clock minute is waited for.
    @Test func failuresWithinTheIntervalArePostedWhenTheClockReachesIt() async throws {
        let alerts = try await ScriptedReceiver()
        let clock = ManualClock()
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 1)
        var logger = Logger(label: "test.alerts")
        logger.logLevel = .critical
        let notifier = AlertNotifier(
            configuration: .init(target: try AlertTarget(url: alerts.url("/alerts")), failureInterval: 60, retryDelays: [], timeout: 5),
            transport: transport, clock: clock, logger: logger)
        let running = Task { await notifier.run() }
        let endpoint = EndpointRef(id: "ep_clock", url: "https://receiver.example.com/hook")
        func failed(_ n: Int) -> DispatchNotice {
            .deliveryFailed(endpoint: endpoint, deliveryID: "dlv_\(n)", eventID: "evt_\(n)", attempts: 8, lastError: "HTTP 500")
        }
        func posted() -> [JSONObject] { Harness.parsed(alerts) }
        func waitUntil(_ condition: () -> Bool) async throws {
            for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        }

        notifier.notify(failed(1))
        try await waitUntil { posted().count == 1 }
        #expect(posted().count == 1, "the first failure is posted at once")
        notifier.notify(failed(2))
        notifier.notify(failed(3))
        // Both are grouped and the notifier waits on the clock for the interval to end.
        try await waitUntil { clock.sleeping == 1 }
        #expect(clock.sleeping == 1)
        clock.advance(by: 59)
        #expect(posted().count == 1)
        clock.advance(by: 1)
        try await waitUntil { posted().count == 2 }
        #expect(posted().count == 2)
        #expect(posted().last?["failed_deliveries"] == .number(2))
        #expect(posted().last?["delivery_ids"] == .array([.string("dlv_2"), .string("dlv_3")]))

        notifier.finish()
        await running.value
        await transport.shutdown()
        await alerts.stop()
    }

    @Test func theAlertURLIsShownWithoutItsSecret() throws {
        let target = try AlertTarget(url: "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX")
        #expect(target.redacted == "https://hooks.slack.com/…")
        #expect(!target.redact("POST https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX failed").contains("XXXXsecretXXXX"))
        #expect(!target.redact("path /services/T000/B000/XXXXsecretXXXX").contains("secret"))
        let withQuery = try AlertTarget(url: "http://127.0.0.1:9000/alert?token=abcdef123")
        #expect(withQuery.redacted == "http://127.0.0.1:9000/…")
        #expect(!withQuery.redact("token=abcdef123").contains("abcdef123"))
        #expect(try AlertTarget(url: "https://alerts.example.com").redacted == "https://alerts.example.com")
        for bad in ["ftp://example.com/x", "hooks.slack.com/services/x", "", "https://"] {
            #expect(throws: HooklineError.self, "\(bad)") { try AlertTarget(url: bad) }
        }
    }
}
