import Foundation
@testable import HooklineCore
import Testing

@Suite struct EndpointOperationsTests {
    @Test func addGeneratesASecretAndStoresTheSettings() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(
            url: "https://crm.example.com/webhooks/churn-saver", eventTypes: try EventTypeSelection(parsing: "case.created,case.lost"),
            description: "CRM", rateLimit: 5)
        #expect(endpoint.secret.count == 64)
        let stored = try #require(try await fixture.store.endpoint(id: endpoint.id))
        #expect(stored == endpoint)
        #expect(stored.eventTypes == .only(["case.created", "case.lost"]))
        let audit = try await fixture.store.auditEntries(limit: 10)
        #expect(audit.first?.action == "endpoint.add")
        #expect(audit.first?.actor == .cli)
        #expect(audit.first?.targetIDs == [endpoint.id])
    }

    @Test(arguments: [
        ("ftp://example.com/x", "must use http or https"),
        ("example.com/hook", "is not an absolute URL"),
        ("https:///path", "has no host"),
        ("https://user:pw@example.com/x", "user name or password"),
        ("", "is empty"),
    ])
    func badURLsAreRefusedAndNothingIsStored(_ url: String, _ message: String) async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        await #expect {
            _ = try await fixture.operations.addEndpoint(url: url)
        } throws: { error in
            (error as? HooklineError)?.description.contains(message) == true
        }
        #expect(try await fixture.store.endpoints().isEmpty)
        #expect(try await fixture.store.auditEntries(limit: 10).isEmpty)
    }

    @Test func unknownEventTypesAndShortSecretsAreRefused() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        #expect(throws: HooklineError.self) { try EventTypeSelection(parsing: "case.created,case.exploded") }
        await #expect(throws: HooklineError.self) {
            _ = try await fixture.operations.addEndpoint(url: "https://example.com", secret: "too-short")
        }
        #expect(try await fixture.store.endpoints().isEmpty)
    }

    @Test func subscribeAndUnsubscribeEditTheList() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://example.com", eventTypes: .only(["case.created"]))
        var updated = try await fixture.operations.subscribe(id: endpoint.id, types: ["case.lost", "case.created"])
        #expect(updated.eventTypes == .only(["case.created", "case.lost"]))
        updated = try await fixture.operations.unsubscribe(id: endpoint.id, types: ["case.created"])
        #expect(updated.eventTypes == .only(["case.lost"]))
        await #expect(throws: HooklineError.self) {
            _ = try await fixture.operations.unsubscribe(id: endpoint.id, types: ["case.lost"])
        }
        #expect(try await fixture.store.endpoint(id: endpoint.id)?.eventTypes == .only(["case.lost"]))
        updated = try await fixture.operations.subscribe(id: endpoint.id, types: ["*"])
        #expect(updated.eventTypes == .all)
        updated = try await fixture.operations.unsubscribe(id: endpoint.id, types: ["incentive.expired"])
        #expect(updated.eventTypes.list.count == EventCatalog.all.count - 1)
    }

    @Test func unknownEndpointIdsAreNamed() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        await #expect(throws: HooklineError.notFound(kind: "endpoint", id: "ep_missing")) {
            _ = try await fixture.operations.disableEndpoint(id: "ep_missing")
        }
        await #expect(throws: HooklineError.notFound(kind: "endpoint", id: "ep_missing")) {
            try await fixture.operations.removeEndpoint(id: "ep_missing")
        }
    }

    @Test func disablingHoldsPendingDeliveriesAndEnablingReleasesThem() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://example.com")
        for _ in 0..<3 { _ = try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created")) }
        let disabled = try await fixture.operations.disableEndpoint(id: endpoint.id, reason: "maintenance")
        #expect(disabled.movedDeliveries == 3)
        #expect(disabled.endpoint.enabled == false)
        #expect(disabled.endpoint.disabledReason == "maintenance")
        #expect(try await fixture.store.deliveries(DeliveryQuery(status: .held)).count == 3)
        fixture.clock.advance(by: 60)
        let enabled = try await fixture.operations.enableEndpoint(id: endpoint.id)
        #expect(enabled.movedDeliveries == 3)
        let pending = try await fixture.store.deliveries(DeliveryQuery(status: .pending))
        #expect(pending.count == 3)
        #expect(pending.allSatisfy { $0.nextAttemptAt == fixture.clock.now() })
    }

    @Test func enablingWithKeepHeldLeavesThemHeld() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://example.com")
        _ = try await fixture.operations.disableEndpoint(id: endpoint.id)
        _ = try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created"))
        let change = try await fixture.operations.enableEndpoint(id: endpoint.id, releaseHeld: false)
        #expect(change.movedDeliveries == 0)
        #expect(try await fixture.store.deliveries(DeliveryQuery(status: .held)).count == 1)
    }

    @Test func removeRefusesUnfinishedWorkUnlessForced() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://example.com")
        let emitted = try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created"))
        await #expect(throws: HooklineError.self) { try await fixture.operations.removeEndpoint(id: endpoint.id) }
        #expect(try await fixture.store.endpoint(id: endpoint.id) != nil)
        try await fixture.operations.removeEndpoint(id: endpoint.id, force: true)
        #expect(try await fixture.store.endpoint(id: endpoint.id) == nil)
        #expect(try await fixture.store.deliveries(DeliveryQuery()).isEmpty)
        #expect(try await fixture.store.event(id: emitted.summary.event.id) != nil, "events outlive their endpoints")
    }
}

@Suite struct EmitTests {
    @Test func emitWrapsDataInTheEnvelopeAndFansOutToSubscribedEnabledEndpoints() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let all = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        let createdOnly = try await fixture.operations.addEndpoint(url: "https://b.example.com", eventTypes: .only(["case.created"]))
        let lostOnly = try await fixture.operations.addEndpoint(url: "https://c.example.com", eventTypes: .only(["case.lost"]))
        let disabled = try await fixture.operations.addEndpoint(url: "https://d.example.com")
        _ = try await fixture.operations.disableEndpoint(id: disabled.id)

        let data = try JSONValue.parse(#"{"case":{"id":"case_1","user_id":"u","status":"active","risk_level":"high","trigger_event":{"type":"payment_failed"},"customer":{"id":"u","email":"e@example.com","lifetime_value":1250.00}}}"#)
        let result = try await fixture.operations.emit(type: "case.created", data: data, id: "evt_test_123")
        #expect(result.wasCreated)
        #expect(result.summary.deliveries == 3)

        let payload = String(decoding: result.summary.event.payload, as: UTF8.self)
        #expect(payload == #"{"event":"case.created","id":"evt_test_123","timestamp":"2025-11-24T16:00:00Z","data":{"case":{"id":"case_1","user_id":"u","status":"active","risk_level":"high","trigger_event":{"type":"payment_failed"},"customer":{"id":"u","email":"e@example.com","lifetime_value":1250}}}}"#)

        let deliveries = try await fixture.store.deliveries(DeliveryQuery(eventID: "evt_test_123"))
        let byEndpoint = Dictionary(uniqueKeysWithValues: deliveries.map { ($0.endpointID, $0) })
        #expect(byEndpoint[all.id]?.status == .pending)
        #expect(byEndpoint[createdOnly.id]?.status == .pending)
        #expect(byEndpoint[lostOnly.id] == nil)
        #expect(byEndpoint[disabled.id]?.status == .held)
        #expect(byEndpoint[all.id]?.nextAttemptAt == fixture.clock.now())
    }

    @Test func emittingAnExistingIdReturnsTheStoredEventAndCreatesNothing() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        _ = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        let first = try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created"), id: "evt_same")
        fixture.clock.advance(by: 5)
        _ = try await fixture.operations.addEndpoint(url: "https://b.example.com")
        let second = try await fixture.operations.emit(type: "case.lost", data: Examples.data("case.lost"), id: "evt_same")
        #expect(!second.wasCreated)
        #expect(second.summary == first.summary)
        #expect(try await fixture.store.deliveries(DeliveryQuery()).count == 1)
        #expect(try await fixture.store.events(EventQuery()).count == 1)
    }

    @Test(arguments: [
        ("case.created", #"{"case":{"id":"c","user_id":"u","status":"a","risk_level":"h","trigger_event":{"type":"t"},"customer":{"email":"e"}}}"#,
         "data.case.customer.id is required for case.created."),
        ("case.created", #"{"case":{"id":7,"user_id":"u","status":"a","risk_level":"h","trigger_event":{"type":"t"},"customer":{"id":"u","email":"e"}}}"#,
         "data.case.id must be a string for case.created, not number."),
        ("customer.risk_changed", #"[1,2]"#, "The data of a customer.risk_changed event must be a JSON object, not array."),
        ("case.exploded", #"{}"#, "Unknown event type 'case.exploded'"),
        ("incentive.applied", #"{"incentive":{"id":"i"}"#, "The JSON is malformed"),
    ])
    func badEventsAreRefusedByNameAndNothingIsStored(type: String, json: String, message: String) async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        _ = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        await #expect {
            _ = try await fixture.operations.emit(type: type, dataJSON: Array(json.utf8))
        } throws: { error in
            (error as? HooklineError)?.description.hasPrefix(message) == true
        }
        #expect(try await fixture.store.events(EventQuery()).isEmpty)
        #expect(try await fixture.store.deliveries(DeliveryQuery()).isEmpty)
    }

    @Test func everyCatalogExampleIsValidForItsType() throws {
        #expect(EventCatalog.all.count == 7)
        for type in EventCatalog.all {
            let data = try JSONValue.parse(type.exampleData)
            try type.validate(data: data)
            #expect(data.canonicalString == type.exampleData, "example of \(type.name) is canonical")
        }
    }

    @Test func oversizedEventsAreRefused() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let big = String(repeating: "x", count: 300 * 1024)
        let json = #"{"customer":{"id":"u"},"risk_change":{"from":"a","to":"b","note":"\#(big)"}}"#
        await #expect(throws: HooklineError.self) {
            _ = try await fixture.operations.emit(type: "customer.risk_changed", dataJSON: Array(json.utf8))
        }
        #expect(try await fixture.store.events(EventQuery()).isEmpty)
    }

    @Test func listingsAreNewestFirstAndFilter() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        var ids: [String] = []
        for type in ["case.created", "case.lost", "case.created"] {
            ids.append(try await fixture.operations.emit(type: type, data: Examples.data(type)).summary.event.id)
            fixture.clock.advance(by: 1)
        }
        #expect(try await fixture.store.events(EventQuery()).map(\.event.id) == ids.reversed())
        #expect(try await fixture.store.events(EventQuery(type: "case.created")).count == 2)
        #expect(try await fixture.store.events(EventQuery(limit: 1)).map(\.event.id) == [ids[2]])
        #expect(try await fixture.store.deliveries(DeliveryQuery(endpointID: endpoint.id)).count == 3)
        #expect(try await fixture.store.deliveries(DeliveryQuery(status: .failed)).isEmpty)
    }
}
