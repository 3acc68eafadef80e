import Foundation
import HooklineCore
import HooklineHTTP
import HooklineTestSupport
import Testing

/// `endpoint test` through the core: a signed example to a live and a dead receiver, kept as a test
/// attempt and never queued.
@Suite(.serialized) struct TestSendTests {
    func transport() -> NIOHTTPTransport {
        NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 1)
    }

    @Test func aLiveReceiverGetsASignedExampleAndNothingIsQueued() async throws {
        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let receiver = try await ScriptedReceiver()
        let endpoint = try await fixture.addEndpoint(receiver.url())
        let transport = transport()
        let send = try await fixture.operations.sendTest(endpointID: endpoint.id, eventType: "incentive.applied", transport: transport)
        await transport.shutdown()
        await receiver.stop()

        #expect(send.succeeded)
        #expect(send.statusCode == 200)
        #expect(send.advice == nil)
        #expect(send.responseExcerpt == #"{"received":true}"#)
        let request = try #require(receiver.requests.first)
        #expect(receiver.requests.count == 1)
        #expect(request.headers["x-webhook-event"] == "incentive.applied")
        #expect(request.headers["x-webhook-id"] == send.eventID)
        #expect(request.headers["x-webhook-attempt"] == "1")
        #expect(SignatureVerifier(secret: endpoint.secret).isValid(signatureHex: try #require(request.headers["x-webhook-signature"]), body: request.body))
        // The body is the catalog's example in the guide's envelope.
        let body = try JSONValue.parse(request.body)
        let example = try JSONValue.parse(Array(EventCatalog.type(named: "incentive.applied")!.exampleData.utf8))
        #expect(body.canonicalBytes == request.body)
        if case .object(let object) = body {
            #expect(object["event"] == .string("incentive.applied"))
            #expect(object["id"] == .string(send.eventID))
            #expect(object["data"] == example)
        } else {
            Issue.record("the body is not an object")
        }

        // Kept with the endpoint, not as an event or a delivery.
        #expect(try await fixture.store.testSends(endpointID: endpoint.id, limit: 10) == [send])
        #expect(try await fixture.store.events(EventQuery()).isEmpty)
        #expect(try await fixture.store.deliveries(DeliveryQuery()).isEmpty)
        let audit = try await fixture.store.auditEntries(limit: 5)
        #expect(audit.first?.action == "endpoint.test")
        let detail = try await fixture.operations.endpointDetail(id: endpoint.id)
        #expect(detail.testSends == [send])
    }

    @Test func aDeadReceiverIsAResultWithWhatToCheck() async throws {
        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.addEndpoint("http://127.0.0.1:\(closedPort())/hook")
        let transport = transport()
        let send = try await fixture.operations.sendTest(endpointID: endpoint.id, transport: transport)
        await transport.shutdown()

        #expect(!send.succeeded)
        #expect(send.statusCode == nil)
        #expect(send.errorClass == "connect")
        #expect(send.advice?.contains("Check the connection") == true)
        #expect(try await fixture.store.testSends(endpointID: endpoint.id, limit: 10).first?.errorClass == "connect")
    }

    @Test func aRejectedSignatureSaysSoAndTheBreakerDoesNotMatter() async throws {
        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let receiver = try await ScriptedReceiver { _, _ in .init(status: 401, body: #"{"error":"invalid signature"}"#) }
        let endpoint = try await fixture.addEndpoint(receiver.url())
        // Disabled, and with its breaker open: a test goes out all the same.
        _ = try await fixture.operations.disableEndpoint(id: endpoint.id)
        let transport = transport()
        let send = try await fixture.operations.sendTest(endpointID: endpoint.id, transport: transport)
        await transport.shutdown()
        await receiver.stop()

        #expect(receiver.requests.count == 1)
        #expect(send.statusCode == 401)
        #expect(send.errorClass == "http_status")
        #expect(send.responseExcerpt == #"{"error":"invalid signature"}"#)
        #expect(send.advice?.contains("rejected the signature") == true)
    }

    @Test func aPrivateAddressIsRefusedWithoutTheFlag() async throws {
        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let receiver = try await ScriptedReceiver()
        let endpoint = try await fixture.addEndpoint(receiver.url())
        let guarded = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: false))
        let send = try await fixture.operations.sendTest(endpointID: endpoint.id, transport: guarded)
        await guarded.shutdown()
        await receiver.stop()
        #expect(receiver.requests.isEmpty)
        #expect(send.errorClass == "refused_private")
        #expect(send.advice?.contains("allow private networks") == true)
    }

    @Test func anUnknownTypeOrEndpointIsAnError() async throws {
        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.addEndpoint("http://127.0.0.1:1/hook")
        let transport = transport()
        await #expect(throws: HooklineError.self) { try await fixture.operations.sendTest(endpointID: endpoint.id, eventType: "case.nope", transport: transport) }
        await #expect(throws: HooklineError.self) { try await fixture.operations.sendTest(endpointID: "ep_01M8KTNRFXXTK1M9GZXH9G5M8Y", transport: transport) }
        await transport.shutdown()
        #expect(try await fixture.store.testSends(endpointID: endpoint.id, limit: 10).isEmpty)
    }
}
