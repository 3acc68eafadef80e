import Foundation
import HooklineCore
import HooklineHTTP
import HooklineTestSupport
import Logging
import Testing

/// An attempt that fails for a reason of Hookline's own making is not the receiver's failure.
@Suite(.serialized) struct LocalFaultTests {
    @Test func exhaustedDescriptorsUseUpNoAttemptAndOpenNoBreaker() async throws {
        let clock = ManualClock()
        let fixture = try DispatchFixture(clock: clock)
        defer { fixture.tearDown() }
        let receiver = try await ScriptedReceiver()
        let endpoint = try await fixture.addEndpoint(receiver.url())
        _ = try await fixture.emit(20)
        let http = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 3)
        // Twelve in a row: more than the five failures that open a breaker and the four attempts
        // a delivery gets before it fails for good, were they counted.
        let transport = LocalFaultTransport(http, failing: 12)
        let configuration = DispatchFixture.manualClockConfiguration(schedule: [0, 60, 60, 60])
        let dispatcher = Dispatcher(store: fixture.store, transport: transport, clock: clock, configuration: configuration)
        let started = clock.now()
        try await fixture.flowing([dispatcher]) { try await dispatcher.run(.drain) }
        await http.shutdown()
        await receiver.stop()

        let deliveries = try await fixture.deliveries(endpoint)
        #expect(deliveries.count == 20 && deliveries.allSatisfy { $0.status == .succeeded })
        #expect(deliveries.allSatisfy { $0.attempts == 1 }, "no attempt was used up: \(deliveries.map(\.attempts))")
        var attempts: [Attempt] = []
        for delivery in deliveries { attempts += try await fixture.attempts(delivery) }
        #expect(attempts.count == 20 && attempts.allSatisfy { $0.statusCode == 200 }, "local faults are not recorded as attempts")
        #expect(receiver.requests.count == 20)
        let breaker = try await fixture.store.breakers().first { $0.endpointID == endpoint.id } ?? CircuitBreaker(endpointID: endpoint.id)
        #expect(breaker.state == .closed && breaker.consecutiveFailures == 0)
        // Sending paused and resumed: the deliveries went once the pauses (0.25 s, doubling) were over.
        let firstSuccess = try #require(attempts.map(\.startedAt).min())
        #expect(firstSuccess.timeIntervalSince(started) >= 0.25)
        #expect(firstSuccess.timeIntervalSince(started) <= 3 * Dispatcher.maximumLocalPause)
    }
}
