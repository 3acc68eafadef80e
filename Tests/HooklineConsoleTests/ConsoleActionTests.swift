import Foundation
@testable import HooklineConsole
@testable import HooklineCore
import HooklineHTTP
@testable import HooklineSQLite
import HooklineTestSupport
import Testing

/// Console actions go through the core Operations, as actor `console`, against a real store.
@Suite struct ConsoleActionTests {
    /// A new store in a scratch directory.
    static func store() throws -> (directory: String, store: SQLiteStore) {
        let directory = NSTemporaryDirectory() + "hookline-console-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (directory, try SQLiteStore(path: directory + "/h.db"))
    }

    @Test func actionsChangeTheStoreAndAreAuditedAsTheConsole() async throws {
        let (directory, store) = try Self.store()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: directory) }
        let cli = Operations(store: store, actor: .cli)
        let console = Operations(store: store, actor: .console)
        let endpoint = try await cli.addEndpoint(url: "https://example.com/hook")
        _ = try await cli.emit(type: "customer.risk_changed", data: try JSONValue.parse(#"{"customer":{"id":"u"},"risk_change":{"from":"a","to":"b"}}"#))

        var messages = await ConsoleSession.execute(.disable(endpointID: endpoint.id), operations: console)
        #expect(messages.contains { if case .flash(let text, _) = $0 { return text.contains("held 1 pending") } else { return false } })
        #expect(try await store.endpoint(id: endpoint.id)?.enabled == false)

        messages = await ConsoleSession.execute(.previewEnable(endpointID: endpoint.id), operations: console)
        guard case .confirm(let confirmation)? = messages.first else {
            Issue.record("expected a confirmation, got \(messages)")
            return
        }
        #expect(confirmation.question.contains("release its 1 held deliveries"))
        #expect(confirmation.alternative?.action == .enable(endpointID: endpoint.id, releaseHeld: false))

        _ = await ConsoleSession.execute(.enable(endpointID: endpoint.id, releaseHeld: true), operations: console)
        _ = await ConsoleSession.execute(.setEventTypes(endpointID: endpoint.id, types: .only(["case.lost"])), operations: console)
        _ = await ConsoleSession.execute(.resetBreaker(endpointID: endpoint.id), operations: console)
        #expect(try await store.endpoint(id: endpoint.id)?.eventTypes == .only(["case.lost"]))
        #expect(try await store.deliveries(DeliveryQuery(status: .pending)).count == 1)

        let audit = try await store.auditEntries(limit: 10)
        #expect(audit.prefix(4).map(\.action) == ["breaker.reset", "endpoint.events", "endpoint.enable", "endpoint.disable"])
        #expect(audit.prefix(4).allSatisfy { $0.actor == .console })

        messages = await ConsoleSession.execute(.openEndpoint(id: "ep_missing"), operations: console)
        #expect(messages.contains { if case .flash(let text, .error) = $0 { return text.contains("No endpoint with id 'ep_missing'") } else { return false } })
    }

    @Test func tSendsATestThroughTheCoreAndFlashesTheAnswer() async throws {
        let (directory, store) = try Self.store()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: directory) }
        let console = Operations(store: store, actor: .console)
        let receiver = try await ScriptedReceiver()
        let live = try await console.addEndpoint(url: receiver.url())
        let dead = try await console.addEndpoint(url: "http://127.0.0.1:\(closedPort())/hook")
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true))

        var messages = await ConsoleSession.execute(.testSend(endpointID: live.id), operations: console, transport: transport)
        #expect(messages.contains { if case .flash(let text, .ok) = $0 { return text.contains("Test case.created to \(live.id): HTTP 200 in") } else { return false } }, "\(messages)")
        messages = await ConsoleSession.execute(.testSend(endpointID: dead.id), operations: console, transport: transport)
        #expect(messages.contains { if case .flash(let text, .error) = $0 { return text.contains("failed") && text.contains("Check the connection") } else { return false } }, "\(messages)")
        messages = await ConsoleSession.execute(.testSend(endpointID: live.id), operations: console)
        #expect(messages.contains { if case .flash(let text, .warn) = $0 { return text.contains("cannot send test events") } else { return false } })
        await transport.shutdown()
        await receiver.stop()

        #expect(receiver.requests.count == 1)
        let audit = try await store.auditEntries(limit: 5).filter { $0.action == "endpoint.test" }
        #expect(audit.count == 2)
        #expect(audit.allSatisfy { $0.actor == .console })
    }

    @Test func markedDeliveriesAreRedeliveredInOneActionAndThePagerGetsPayloadAndResponse() async throws {
        let (directory, store) = try Self.store()
        defer { try? store.close(); try? FileManager.default.removeItem(atPath: directory) }
        let console = Operations(store: store, actor: .console)
        let endpoint = try await console.addEndpoint(url: "https://example.com/hook")
        for index in 0..<4 {
            _ = try await console.emit(type: "customer.risk_changed", data: try JSONValue.parse(#"{"customer":{"id":"u\#(index)"},"risk_change":{"from":"a","to":"b"}}"#))
        }
        let now = Date().addingTimeInterval(1)
        let claimed = try await store.claim([ClaimRequest(endpointID: endpoint.id, limit: 4)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
        let results = claimed.map { delivery in
            AttemptResult(delivery: delivery, attempt: Attempt(
                deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 9, statusCode: 500,
                errorClass: "http_status", errorMessage: "HTTP 500", responseExcerpt: #"{"error":"database is down"}"#), random: 0.5)
        }
        _ = try await store.record(results, planner: DeliveryPlanner(retry: RetryPolicy(schedule: [0])), owner: "t", at: now)
        let ids = claimed.prefix(3).map(\.id)

        var messages = await ConsoleSession.execute(.redeliverMarked(ids: ids + ["dlv_01M8XJ5TF65XGYEQ7JYY1JVW2C"]), operations: console)
        #expect(messages.contains { if case .flash(let text, .warn) = $0 { return text.contains("Queued 3 of 4 marked deliveries") && text.contains("no such delivery") } else { return false } }, "\(messages)")
        #expect(Set(try await store.deliveries(DeliveryQuery(status: .pending)).map(\.id)) == Set(ids))
        #expect(try await store.deliveries(DeliveryQuery(status: .failed)).map(\.id) == [claimed[3].id], "the unmarked one stays failed")
        let audit = try await store.auditEntries(limit: 1)
        #expect(audit.first?.action == "delivery.redeliver" && audit.first?.actor == .console && Set(audit.first?.targetIDs ?? []) == Set(ids), "the audit names the deliveries requeued")

        messages = await ConsoleSession.execute(.pageEvent(id: claimed[0].eventID), operations: console)
        guard case .page(let title, let text)? = messages.first else {
            Issue.record("expected a page, got \(messages)")
            return
        }
        #expect(title == "the payload of \(claimed[0].eventID)")
        #expect(text.contains("\"risk_change\"") && text.contains("\n  "), "pretty-printed: \(text)")
        messages = await ConsoleSession.execute(.pageDelivery(id: claimed[3].id), operations: console)
        guard case .page(_, let response)? = messages.first else {
            Issue.record("expected a page, got \(messages)")
            return
        }
        #expect(response.hasPrefix("Delivery \(claimed[3].id), attempt #1 at "))
        #expect(response.contains("HTTP 500, 9 ms") && response.contains(#"{"error":"database is down"}"#))
    }
}
