import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

/// Erasure on both back ends: a customer's data leaves every table, while ids, statuses, attempts
/// and counts stay, and nothing redacted is ever sent again.
@Suite struct RedactionContractTests {
    static let secret = "jane.doe.secret@example.com"
    static let responseSecret = "echo-for-jane-doe-42"
    static let data = try! JSONValue.parse(Array(#"""
        {"case":{"id":"case_1","customer":{"email":"jane.doe.secret@example.com"}},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}
        """#.utf8))

    static func attempt(_ delivery: ClaimedDelivery, status: Int, at now: Date) -> AttemptResult {
        AttemptResult(
            delivery: delivery,
            attempt: Attempt(
                deliveryID: delivery.id, number: delivery.attempts + 1, trigger: .scheduled, startedAt: now, durationMs: 7, statusCode: status,
                errorClass: status == 200 ? nil : "http_status", errorMessage: status == 200 ? nil : "HTTP \(status)",
                responseExcerpt: "{\"ok\":true,\"\(responseSecret)\":1}"),
            random: 0.5)
    }

    /// Deliveries by status as the kept counts say (stats) and as the rows say (listings); they must agree.
    static func counts(_ store: any HooklineStore, tenant: String? = nil) async throws -> [DeliveryStatus: Int] {
        let kept = try await store.stats(StatsQuery(tenant: tenant, since: Date().addingTimeInterval(-3600)), now: Date()).deliveries
        var real: [DeliveryStatus: Int] = [:]
        for status in DeliveryStatus.allCases {
            real[status] = try await store.deliveries(DeliveryQuery(status: status, tenant: tenant, limit: 100_000)).count
        }
        #expect(kept == real, "the kept counts follow the rows")
        return real
    }

    @Test(arguments: StoreBackend.available)
    func aRedactedEventKeepsItsHistoryLosesItsDataAndIsNeverSentAgain(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            let hot = try await operations.addEndpoint(url: "https://hot.acme.example/hook", tenant: "acme")
            let other = try await operations.addEndpoint(url: "https://other.example.com/hook")
            let delivered = try await operations.emit(type: "case.lost", data: Self.data, tenant: "acme").summary.event
            // The first event's delivery fails once, then succeeds: two attempts with response excerpts.
            var now = Date().addingTimeInterval(1)
            let first = try await store.claim([ClaimRequest(endpointID: hot.id, limit: 1)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
            #expect(first.map(\.eventID) == [delivered.id])
            _ = try await store.record(first.map { Self.attempt($0, status: 500, at: now) }, planner: DeliveryPlanner(), owner: "t", at: now)
            now = now.addingTimeInterval(600)
            let second = try await store.claim([ClaimRequest(endpointID: hot.id, limit: 1)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
            #expect(second.map(\.eventID) == [delivered.id])
            _ = try await store.record(second.map { Self.attempt($0, status: 200, at: now) }, planner: DeliveryPlanner(), owner: "t", at: now)
            let waiting = try await operations.emit(type: "case.lost", data: Self.data, tenant: "acme").summary.event
            let untouched = try await operations.emit(type: "case.lost", data: Self.data).summary.event
            let otherClaim = try await store.claim([ClaimRequest(endpointID: other.id, limit: 1)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
            _ = try await store.record(otherClaim.map { Self.attempt($0, status: 200, at: now) }, planner: DeliveryPlanner(), owner: "t", at: now)
            let deliveryID = try #require(first.first?.id)
            let countsBefore = try await Self.counts(store)
            let attemptsBefore = try await store.attempts(deliveryID: deliveryID)

            let report = try await operations.redactEvents([delivered.id])
            #expect(report.redacted == [delivered.id] && report.cancelledDeliveries == 0 && report.clearedResponses == 2)

            let shown = try await operations.event(id: delivered.id).event
            #expect(shown.redactedAt != nil && shown.id == delivered.id && shown.type == delivered.type)
            #expect(abs(shown.createdAt.timeIntervalSince(delivered.createdAt)) < 0.001)
            let envelope = try JSONValue.parse(shown.payload)
            #expect(envelope["data"] == .string(RedactionPlan.marker) && envelope["id"] == .string(delivered.id))
            #expect(envelope["timestamp"] == (try JSONValue.parse(delivered.payload))["timestamp"], "the producer's timestamp stays")
            let attemptsAfter = try await store.attempts(deliveryID: deliveryID)
            #expect(attemptsAfter.map(\.responseExcerpt) == [RedactionPlan.marker, RedactionPlan.marker])
            #expect(attemptsAfter.map(\.statusCode) == attemptsBefore.map(\.statusCode) && attemptsAfter.map(\.startedAt) == attemptsBefore.map(\.startedAt))
            #expect(try await store.delivery(id: deliveryID)?.status == .succeeded)
            #expect(try await Self.counts(store) == countsBefore, "a finished event's redaction changes no count")
            // Still there: the other events of acme and of the default tenant.
            #expect(try await operations.event(id: waiting.id).event.payload == waiting.payload)
            #expect(try await operations.event(id: untouched.id).event.payload == untouched.payload)

            await #expect {
                _ = try await operations.redeliver([deliveryID])
            } throws: { error in
                guard case .conflict(let sentence) = error as? HooklineError else { return false }
                return sentence == "The delivery \(deliveryID) cannot be sent again: its event was redacted, so there is nothing left to send."
            }
            let recovered = try await store.redeliver([deliveryID], onlyIfStatus: nil, at: now, audit: AuditEntry(at: now, actor: .cli, action: "x", targetIDs: []))
            #expect(recovered.requeued.isEmpty && recovered.skipped.first?.reason == RedeliveryPlan.redactedReason)
            let audit = try await store.auditEntries(limit: 5)
            #expect(audit.contains { $0.action == "event.redact" && $0.targetIDs == [delivered.id] && $0.detail == "1 event redacted" })

            // A repeat changes nothing and says so.
            let again = try await operations.redactEvents([delivered.id])
            #expect(again.redactedCount == 0 && again.alreadyRedactedCount == 1)

            // The whole tenant: its delivery in flight is cancelled (the attempt that comes back is
            // kept without its response), never claimed again; its endpoint's test sends lose their responses.
            let inFlight = try await store.claim([ClaimRequest(endpointID: hot.id, limit: 1)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "t")
            #expect(inFlight.map(\.eventID) == [waiting.id])
            try await store.recordTestSend(
                TestSend(endpointID: hot.id, eventID: "evt_test", eventType: "case.lost", startedAt: now, durationMs: 3, statusCode: 200,
                         responseExcerpt: "test answer \(Self.responseSecret)"),
                audit: AuditEntry(at: now, actor: .cli, action: "endpoint.test", targetIDs: [hot.id]))
            let before = try await Self.counts(store, tenant: "acme")
            let erased = try await operations.eraseTenant("acme")
            #expect(erased.redactedCount == 1 && erased.alreadyRedactedCount == 1 && erased.cancelledDeliveries == 1 && erased.clearedResponses == 1)
            var expected = before
            expected[.sending, default: 0] -= 1
            expected[.failed, default: 0] += 1
            #expect(try await Self.counts(store, tenant: "acme") == expected)
            let cancelled = try #require(try await store.deliveries(DeliveryQuery(eventID: waiting.id, limit: 5)).first)
            #expect(cancelled.status == .failed && cancelled.lastError == RedactionPlan.cancelledError)
            _ = try await store.record(inFlight.map { Self.attempt($0, status: 200, at: now) }, planner: DeliveryPlanner(), owner: "t", at: now)
            #expect(try await store.delivery(id: cancelled.id)?.status == .failed)
            let late = try await store.attempts(deliveryID: cancelled.id)
            #expect(late.map(\.statusCode) == [200] && late.map(\.responseExcerpt) == [RedactionPlan.marker],
                    "what was sent is recorded, but not what the receiver answered about a redacted event")
            #expect(try await store.testSends(endpointID: hot.id, limit: 5).map(\.responseExcerpt) == [RedactionPlan.marker])
            let later = now.addingTimeInterval(3600)
            #expect(try await store.claim([ClaimRequest(endpointID: hot.id, limit: 10)], now: later, leaseUntil: later.addingTimeInterval(60), owner: "t").isEmpty)

            // Only the default tenant's event still holds the customer's text.
            #expect(try await StoredText.tables(containing: Self.secret, in: store) == ["event"])
            #expect(try await StoredText.tables(containing: Self.responseSecret, in: store) == ["attempt"])
            _ = try await operations.redactEvents([untouched.id])
            #expect(try await StoredText.tables(containing: Self.secret, in: store) == [])
            #expect(try await StoredText.tables(containing: Self.responseSecret, in: store) == [])
        }
    }

    @Test(arguments: StoreBackend.available)
    func badRequestsChangeNothing(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { _, store, operations in
            _ = try await operations.addTenant(id: "acme")
            _ = try await operations.addEndpoint(url: "https://a.example.com/hook")
            let event = try await operations.emit(type: "case.lost", data: Self.data).summary.event
            for (ids, sentence) in [
                ([event.id, "evt_01NOSUCHEVENT"], "No event with id 'evt_01NOSUCHEVENT' exists"),
                (["dlv_01X"], "'dlv_01X' is not a valid event id"),
                ([], "Name at least one event id"),
                (Array(repeating: event.id, count: 1001), "1001 event ids is more than 1000 at once"),
            ] {
                await #expect {
                    _ = try await operations.redactEvents(ids)
                } throws: { error in
                    "\(error)".contains(sentence)
                }
            }
            await #expect { _ = try await operations.redactEvents([event.id], tenant: "acme") } throws: { "\($0)".contains("event of tenant acme") }
            await #expect { _ = try await operations.eraseTenant("initech") } throws: { "\($0)".contains("No tenant with id 'initech'") }
            #expect(try await operations.event(id: event.id).event.payload == event.payload)
            #expect(try await store.auditEntries(limit: 10).allSatisfy { $0.action != "event.redact" })
        }
    }
}

extension AtScale {
    /// Erasing one tenant among a hundred, over a thousand endpoints: it takes several steps, every
    /// one of its events is redacted and every other tenant's is left whole.
    @Suite struct RedactionAtScaleTests {
        @Test(arguments: StoreBackend.available)
        func erasingOneTenantOfAHundredLeavesTheOthersWhole(_ backend: StoreBackend) async throws {
            try await TestDatabase.withStore(backend) { _, store, operations in
                let tenants = (0..<100).map { String(format: "t%03d", $0) }
                for tenant in tenants {
                    _ = try await operations.addTenant(id: tenant)
                    for index in 0..<10 { _ = try await operations.addEndpoint(url: "https://\(tenant)-\(index).example.com/hook", tenant: tenant) }
                }
                let quiet = try await operations.emitBatch(tenants.map { EmitRequest(type: "case.lost", data: RedactionContractTests.data, tenant: $0) })
                #expect(quiet.allSatisfy { (try? $0.get()) != nil })
                // The busy tenant: 1,200 more events, three erasure steps of 500.
                let busy = "t042"
                for _ in 0..<2 {
                    let batch = try await operations.emitBatch((0..<600).map { _ in EmitRequest(type: "case.lost", data: RedactionContractTests.data, tenant: busy) })
                    #expect(batch.allSatisfy { (try? $0.get()) != nil })
                }
                let othersBefore = try await RedactionContractTests.counts(store, tenant: "t041")

                let report = try await operations.eraseTenant(busy)
                #expect(report.redactedCount == 1_201)
                #expect(report.cancelledDeliveries == 12_010, "every delivery was pending: ten endpoints per event")
                let erased = try await store.events(EventQuery(tenant: busy, limit: 2_000))
                #expect(erased.count == 1_201 && erased.allSatisfy { $0.event.redactedAt != nil })
                let steps = try await store.auditEntries(limit: 20).filter { $0.action == "tenant.erase" }
                #expect(steps.count == 3 && steps.map(\.targetIDs.count).sorted() == [201, 500, 500])
                let others = try await store.events(EventQuery(limit: 2_000)).filter { $0.event.tenant != busy }
                #expect(others.count == 99 && others.allSatisfy { $0.event.redactedAt == nil && String(decoding: $0.event.payload, as: UTF8.self).contains(RedactionContractTests.secret) })
                #expect(try await RedactionContractTests.counts(store, tenant: "t041") == othersBefore)
                let busyCounts = try await RedactionContractTests.counts(store, tenant: busy)
                #expect(busyCounts[.failed] == 12_010 && busyCounts[.pending] == 0)
            }
        }
    }
}
