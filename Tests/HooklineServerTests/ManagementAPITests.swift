import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

/// The management API over real HTTP on 127.0.0.1, on SQLite and PostgreSQL.
@Suite struct ManagementAPITests {
    static let lost = #"{"case":{"id":"c1"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"x"}}"#

    static func event(_ tenant: String) -> String {
        #"{"event":"case.lost","tenant":"\#(tenant)","data":\#(lost)}"#
    }

    /// Waits (at most `seconds`) until `condition` holds.
    static func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test(arguments: StoreBackend.available)
    func aTenantsEventReachesOnlyItsReceiversWithItsHeaders(_ backend: StoreBackend) async throws {
        let acmeReceiver = try await ScriptedReceiver()
        let globexReceiver = try await ScriptedReceiver()
        defer { Task { await acmeReceiver.stop(); await globexReceiver.stop() } }
        try await ManagementServer.with(backend, dispatch: true) { server in
            let created = try await server.call(.POST, "/v1/tenants", #"{"id":"acme","name":"Acme Corp","metadata":{"plan":"pro"}}"#)
            #expect(created.status == 201, "\(created)")
            #expect(created.json["metadata"]?["plan"] == .string("pro"))
            #expect(try await server.call(.POST, "/v1/tenants", #"{"id":"globex"}"#).status == 201)
            #expect(try await server.call(.POST, "/v1/tenants", #"{"id":"globex"}"#).status == 409, "an id is taken once")

            let acme = try await server.call(.POST, "/v1/tenants/acme/endpoints", #"""
                {"url":"\#(acmeReceiver.url())","events":["case.lost"],"description":"Acme's CRM",
                 "headers":{"X-Customer":"acme","Authorization":"Bearer receiver-secret-123"}}
                """#)
            #expect(acme.status == 201, "\(acme)")
            let secret = try #require(acme.json["secret"]?.stringValue, "the secret is shown once, at creation")
            #expect(acme.json["tenant"] == .string("acme"))
            #expect(acme.json["breaker"] == .string("closed"))
            let acmeID = try #require(acme.json["id"]?.stringValue)
            let globex = try await server.call(.POST, "/v1/tenants/globex/endpoints", #"{"url":"\#(globexReceiver.url())"}"#)
            #expect(globex.status == 201)

            // A custom header may not stand in for a signature header; nothing is created.
            let forged = try await server.call(.POST, "/v1/tenants/acme/endpoints", #"{"url":"https://x.example.com","headers":{"X-Webhook-Signature":"sha256=0"}}"#)
            #expect(forged.status == 400)
            #expect(forged.json["field"] == .string("headers"))
            #expect(try await server.call(.GET, "/v1/tenants/acme/endpoints").data.count == 1)

            let sent = try await server.call(.POST, "/v1/events", Self.event("acme"))
            #expect(sent.status == 202, "\(sent)")
            #expect(sent.json["deliveries"] == .number(1), "acme's endpoint only, not globex's")
            #expect(try await Self.eventually { !acmeReceiver.requests.isEmpty })
            let request = try #require(acmeReceiver.requests.first)
            #expect(request.headers["x-customer"] == "acme")
            #expect(request.headers["authorization"] == "Bearer receiver-secret-123")
            let signature = try #require(request.headers["x-webhook-signature"])
            #expect(SignatureVerifier(secret: secret).isValid(signatureHex: signature, body: request.body))
            try await Task.sleep(for: .milliseconds(300))
            #expect(globexReceiver.requests.isEmpty, "globex never hears of acme's event")

            // Its delivery, as the dashboard lists and shows it.
            let deliveries = try await server.call(.GET, "/v1/deliveries?tenant=acme")
            #expect(deliveries.data.count == 1)
            let deliveryID = try #require(deliveries.data.first?["id"]?.stringValue)
            #expect(deliveries.data.first?["tenant"] == .string("acme"))
            #expect(try await Self.eventually {
                try await server.call(.GET, "/v1/deliveries/\(deliveryID)").json["status"] == .string("succeeded")
            })
            let detail = try await server.call(.GET, "/v1/deliveries/\(deliveryID)")
            #expect(detail.json["attempt_list"]?.arrayValue?.first?["status_code"] == .number(200))
            #expect(detail.json["headers"]?["X-Customer"] == .string("acme"))
            #expect(detail.json["headers"]?["Authorization"]?.stringValue?.contains("receiver-secret-123") == false, "masked")
            #expect(try await server.call(.GET, "/v1/deliveries?tenant=globex").data.isEmpty)
            let event = try await server.call(.GET, "/v1/events/\(try #require(sent.json["id"]?.stringValue))")
            #expect(event.json["tenant"] == .string("acme"))
            #expect(event.json["delivery_list"]?.arrayValue?.count == 1)
            #expect(try await server.call(.GET, "/v1/events?tenant=globex").data.isEmpty)
            #expect(try await server.call(.GET, "/v1/events?tenant=acme").data.count == 1)
            #expect(try await server.call(.GET, "/v1/endpoints/\(acmeID)").json["success_rate"] == .number(1))
        }
    }

    @Test(arguments: StoreBackend.available)
    func aTenantTokenSeesOnlyItsTenantAndIsAudited(_ backend: StoreBackend) async throws {
        try await ManagementServer.with(backend) { server in
            let operations = server.operations
            _ = try await operations.addTenant(id: "acme")
            _ = try await operations.addTenant(id: "globex")
            let acmeEndpoint = try await operations.addEndpoint(url: "https://acme.example.com/hook", tenant: "acme")
            let globexEndpoint = try await operations.addEndpoint(url: "https://globex.example.com/hook", tenant: "globex")
            let acmeEvent = try await operations.emit(type: "case.lost", data: try JSONValue.parse(Self.lost), tenant: "acme").summary.event
            let globexEvent = try await operations.emit(type: "case.lost", data: try JSONValue.parse(Self.lost), tenant: "globex").summary.event
            let globexDelivery = try #require(try await server.store.deliveries(DeliveryQuery(eventID: globexEvent.id)).first)
            let issued = try await operations.issueToken(tenant: "acme")
            let token = issued.value
            #expect(token.hasPrefix("hlt_"))
            #expect(try await operations.authenticate(tokenValue: token)?.id == issued.token.id)

            // Another tenant's resources do not exist for it: 404, worded as for an unknown id.
            for path in ["/v1/endpoints/\(globexEndpoint.id)", "/v1/deliveries/\(globexDelivery.id)", "/v1/events/\(globexEvent.id)",
                         "/v1/tenants/globex", "/v1/tenants/globex/endpoints", "/v1/events?tenant=globex", "/v1/deliveries?tenant=globex"] {
                let answer = try await server.call(.GET, path, token: token)
                #expect(answer.status == 404, "\(path): \(answer)")
                #expect(answer.json["error"]?.stringValue?.hasPrefix("No ") == true, "\(path): \(answer)")
            }
            let unknown = try await server.call(.GET, "/v1/endpoints/ep_01NOSUCHENDPOINT0000000000", token: token)
            let hidden = try await server.call(.GET, "/v1/endpoints/\(globexEndpoint.id)", token: token)
            #expect(unknown.json["error"]?.stringValue?.replacingOccurrences(of: "ep_01NOSUCHENDPOINT0000000000", with: globexEndpoint.id)
                    == hidden.json["error"]?.stringValue, "the same sentence as for an id that does not exist")
            #expect(try await server.call(.GET, "/v1/tenants", token: token).status == 403, "it cannot list tenants")
            #expect(try await server.call(.POST, "/v1/tenants", #"{"id":"initech"}"#, token: token).status == 403)
            #expect(try await server.call(.PATCH, "/v1/endpoints/\(globexEndpoint.id)", #"{"description":"mine now"}"#, token: token).status == 404)
            #expect(try await server.call(.POST, "/v1/deliveries/\(globexDelivery.id)/redeliver", token: token).status == 404)
            #expect(try await server.call(.POST, "/v1/tenants/globex/endpoints", #"{"url":"https://x.example.com"}"#, token: token).status == 404)
            #expect(try await server.call(.POST, "/v1/events", Self.event("globex"), token: token).status == 404)
            #expect(try await operations.endpoint(id: globexEndpoint.id).description == "", "globex's endpoint is untouched")
            #expect(try await server.store.events(EventQuery(tenant: "globex")).count == 1)

            // Its own tenant, in full.
            #expect(try await server.call(.GET, "/v1/tenants/acme", token: token).status == 200)
            #expect(try await server.call(.GET, "/v1/events", token: token).data.compactMap { $0["id"]?.stringValue } == [acmeEvent.id])
            #expect(try await server.call(.GET, "/v1/deliveries", token: token).data.allSatisfy { $0["tenant"] == .string("acme") })
            #expect(try await server.call(.GET, "/v1/deliveries", token: token).data.count == 1)
            let changed = try await server.call(.PATCH, "/v1/endpoints/\(acmeEndpoint.id)", #"{"description":"acme's CRM"}"#, token: token)
            #expect(changed.status == 200, "\(changed)")
            let own = try await server.call(.POST, "/v1/events", #"{"event":"case.lost","data":\#(Self.lost)}"#, token: token)
            #expect(own.status == 202)
            #expect(try await server.store.events(EventQuery(tenant: "acme")).count == 2, "an event naming no tenant is the token's tenant's")
            let batch = try await server.call(.POST, "/v1/events/batch", #"{"events":[\#(Self.event("acme")),\#(Self.event("globex"))]}"#, token: token)
            #expect(batch.json["results"]?.arrayValue?.map { $0["status"] } == [.number(202), .number(404)], "\(batch)")

            // Every change is audited with the token's id as the actor.
            let audit = try await server.store.auditEntries(limit: 50)
            let change = try #require(audit.first { $0.action == "endpoint.update" })
            #expect(change.actor == .token(issued.token.id))
            #expect(change.actor.rawValue == issued.token.id)

            // Revoked, it opens nothing; the admin token still does everything.
            _ = try await operations.revokeToken(tenant: "acme", id: issued.token.id)
            #expect(try await server.call(.GET, "/v1/tenants/acme", token: token).status == 401)
            #expect(try await server.call(.GET, "/v1/endpoints/\(globexEndpoint.id)").status == 200)
            #expect(try await operations.tokens(tenant: "acme").first?.revokedAt != nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func anEndpointIsChangedAndActedOnThroughTheAPI(_ backend: StoreBackend) async throws {
        let receiver = try await ScriptedReceiver { _, _ in .init(status: 500) }
        defer { Task { await receiver.stop() } }
        try await ManagementServer.with(backend) { server in
            let made = try await server.call(.POST, "/v1/tenants/default/endpoints", #"{"url":"\#(receiver.url())","rate_limit":5}"#)
            let id = try #require(made.json["id"]?.stringValue)
            let changed = try await server.call(.PATCH, "/v1/endpoints/\(id)", #"{"events":["case.lost","case.created"],"rate_limit":null,"description":"night shift"}"#)
            #expect(changed.status == 200, "\(changed)")
            #expect(changed.json["events"] == .array([.string("case.created"), .string("case.lost")]))
            #expect(changed.json["rate_limit"] == .null)
            #expect(changed.json["description"] == .string("night shift"))

            let disabled = try await server.call(.POST, "/v1/endpoints/\(id)/disable", #"{"reason":"maintenance"}"#)
            #expect(disabled.json["enabled"] == .bool(false))
            #expect(disabled.json["disabled_reason"] == .string("maintenance"))
            #expect(try await server.call(.POST, "/v1/endpoints/\(id)/enable").json["enabled"] == .bool(true))

            let rotated = try await server.call(.POST, "/v1/endpoints/\(id)/rotate-secret", #"{"grace":"1h"}"#)
            #expect(rotated.status == 200)
            #expect(rotated.json["secret"]?.stringValue != made.json["secret"]?.stringValue)
            #expect(rotated.json["previous_secret_hint"] != nil)

            let tested = try await server.call(.POST, "/v1/endpoints/\(id)/test", #"{"event":"case.lost"}"#)
            #expect(tested.status == 200, "\(tested)")
            #expect(tested.json["status_code"] == .number(500))
            #expect(tested.json["succeeded"] == .bool(false))
            #expect(receiver.requests.count == 1)

            // Three failed deliveries: recover counts them in a dry run, then makes them due.
            for _ in 0..<3 { _ = try await server.call(.POST, "/v1/events", #"{"event":"case.lost","data":\#(Self.lost)}"#) }
            let ids = try await server.store.deliveries(DeliveryQuery(endpointID: id)).map(\.id)
            let now = Date().addingTimeInterval(1)
            let claimed = try await server.store.claim(
                [ClaimRequest(endpointID: id, limit: 3)], now: now, leaseUntil: now.addingTimeInterval(60), owner: "test")
            #expect(claimed.count == 3)
            let results = claimed.map { delivery in
                AttemptResult(delivery: delivery, attempt: Attempt(
                    deliveryID: delivery.id, number: 1, trigger: .scheduled, startedAt: now, durationMs: 5, statusCode: 500,
                    errorClass: "http_status", errorMessage: "HTTP 500"), random: 0.5)
            }
            _ = try await server.store.record(results, planner: DeliveryPlanner(retry: RetryPolicy(schedule: [0])), owner: "test", at: now)
            #expect(try await server.call(.GET, "/v1/deliveries?endpoint=\(id)&status=failed").data.count == 3)
            let dry = try await server.call(.POST, "/v1/endpoints/\(id)/recover", #"{"dry_run":true,"since":"1h"}"#)
            #expect(dry.json["count"] == .number(3), "\(dry)")
            #expect(try await server.call(.GET, "/v1/deliveries?endpoint=\(id)&status=failed").data.count == 3, "a dry run changes nothing")
            let recovered = try await server.call(.POST, "/v1/endpoints/\(id)/recover", "{}")
            #expect(recovered.json["count"] == .number(3))
            #expect(try await server.call(.GET, "/v1/deliveries?endpoint=\(id)&status=pending").data.count == 3)
            let again = try await server.call(.POST, "/v1/deliveries/\(ids[0])/redeliver")
            #expect(again.status == 202, "\(again)")
            #expect(try await server.call(.POST, "/v1/endpoints/\(id)/breaker/reset").json["state"] == .string("closed"))

            let refused = try await server.call(.DELETE, "/v1/endpoints/\(id)")
            #expect(refused.status == 409, "work is left: \(refused)")
            #expect(refused.json["error"]?.stringValue?.contains("force=true") == true)
            #expect(try await server.call(.DELETE, "/v1/endpoints/\(id)?force=true").status == 200)
            #expect(try await server.call(.GET, "/v1/endpoints/\(id)").status == 404)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aCreateSentAgainWithItsIdempotencyKeyCreatesNothing(_ backend: StoreBackend) async throws {
        try await ManagementServer.with(backend) { server in
            let key = [("Idempotency-Key", "dashboard create 7f3a")]
            let body = #"{"url":"https://crm.example.com/hook","events":["case.lost"]}"#
            let first = try await server.call(.POST, "/v1/tenants/default/endpoints", body, headers: key)
            #expect(first.status == 201)
            let reordered = #"{ "events": ["case.lost"], "url": "https://crm.example.com/hook" }"#
            let again = try await server.call(.POST, "/v1/tenants/default/endpoints", reordered, headers: key)
            #expect(again.status == 200, "\(again)")
            #expect(again.json["id"] == first.json["id"])
            #expect(again.json["secret"] == first.json["secret"], "the lost first answer's secret, again")
            let other = try await server.call(.POST, "/v1/tenants/default/endpoints", #"{"url":"https://other.example.com/hook"}"#, headers: key)
            #expect(other.status == 409, "\(other)")
            #expect(other.json["error"]?.stringValue?.contains("another request") == true)
            #expect(try await server.store.endpoints().count == 1)

            let tenantKey = [("Idempotency-Key", "t-1")]
            #expect(try await server.call(.POST, "/v1/tenants", #"{"id":"acme"}"#, headers: tenantKey).status == 201)
            let tenantAgain = try await server.call(.POST, "/v1/tenants", #"{"id":"acme"}"#, headers: tenantKey)
            #expect(tenantAgain.status == 200 && tenantAgain.json["id"] == .string("acme"), "\(tenantAgain)")
            #expect(try await server.call(.POST, "/v1/tenants", #"{"id":"acme"}"#).status == 409, "without the key, a taken id")
            #expect(try await server.call(.POST, "/v1/tenants", #"{"id":"globex"}"#, headers: tenantKey).status == 409)
            // A create that fails gives its key back: fixed and sent again, it goes through.
            let failing = [("Idempotency-Key", "retry-me")]
            #expect(try await server.call(.POST, "/v1/tenants/default/endpoints", #"{"url":"ftp://x"}"#, headers: failing).status == 400)
            #expect(try await server.call(.POST, "/v1/tenants/default/endpoints", #"{"url":"https://x.example.com"}"#, headers: failing).status == 201)
            let badKey = try await server.call(.POST, "/v1/tenants", #"{"id":"initech"}"#, headers: [("Idempotency-Key", "tab\tkey")])
            #expect(badKey.status == 400 && badKey.json["field"] == .string("Idempotency-Key"), "\(badKey)")
            #expect(try await server.store.tenant(id: "initech") == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func pagesWalkEveryRowExactlyOnceWhileRowsAreAdded(_ backend: StoreBackend) async throws {
        try await ManagementServer.with(backend) { server in
            _ = try await server.operations.addTenant(id: "bulk")
            var endpointIDs: [String] = []
            for index in 0..<2500 {
                let types: EventTypeSelection = index < 5 ? .all : .only(["case.created"])
                endpointIDs.append(try await server.operations.addEndpoint(url: "https://r\(index).example.com/hook", eventTypes: types, tenant: "bulk").id)
            }
            // 2,000 events to the five endpoints subscribed to case.lost: 10,000 deliveries.
            for _ in 0..<2 {
                let batch = (0..<1000).map { _ in EmitRequest(type: "case.lost", data: try! JSONValue.parse(Self.lost), tenant: "bulk") }
                for result in try await server.operations.emitBatch(batch) { _ = try result.get() }
            }
            var added = 0
            let walked = try await server.walk("/v1/tenants/bulk/endpoints", limit: 100) {
                _ = try await server.operations.addEndpoint(url: "https://late\(added).example.com/hook", eventTypes: .only(["case.created"]), tenant: "bulk")
                added += 1
            }
            let walkedIDs = walked.compactMap { $0["id"]?.stringValue }
            #expect(walkedIDs.count == Set(walkedIDs).count, "no endpoint twice")
            #expect(Set(endpointIDs).isSubset(of: Set(walkedIDs)), "every endpoint there at the start")
            #expect(walkedIDs == walkedIDs.sorted(by: >), "newest first")

            let existing = Set(try await server.store.deliveries(DeliveryQuery(tenant: "bulk", limit: 20_000)).map(\.id))
            #expect(existing.count == 10_000)
            let deliveries = try await server.walk("/v1/deliveries?tenant=bulk", limit: 100) {
                _ = try await server.operations.emit(type: "case.lost", data: try JSONValue.parse(Self.lost), tenant: "bulk")
            }
            let deliveryIDs = deliveries.compactMap { $0["id"]?.stringValue }
            #expect(deliveryIDs.count == Set(deliveryIDs).count, "no delivery twice")
            #expect(existing.isSubset(of: Set(deliveryIDs)), "every delivery there at the start")

            let events = try await server.walk("/v1/events?tenant=bulk", limit: 1000)
            #expect(Set(events.compactMap { $0["id"]?.stringValue }).count == events.count)
            #expect(events.count >= 2000)
        }
    }

    /// A route given bad input answers with a sentence and the field, and changes nothing.
    struct BadRequest: Sendable, CustomStringConvertible {
        var method: String
        var path: String
        var body: String?
        var status: Int
        var field: String?
        var description: String { "\(method) \(path) \(body ?? "")" }
    }

    static let badRequests: [BadRequest] = [
        .init(method: "POST", path: "/v1/tenants", body: #"{"name":"no id"}"#, status: 400, field: "id"),
        .init(method: "POST", path: "/v1/tenants", body: #"{"id":"has space"}"#, status: 400, field: nil),
        .init(method: "POST", path: "/v1/tenants", body: #"{"id":"t1","metadata":{"n":1}}"#, status: 400, field: "metadata.n"),
        .init(method: "POST", path: "/v1/tenants", body: #"{"id":"t1","plan":"pro"}"#, status: 400, field: "plan"),
        .init(method: "POST", path: "/v1/tenants", body: #"{"id":"t1""#, status: 400, field: "body"),
        .init(method: "POST", path: "/v1/tenants", body: #"["t1"]"#, status: 400, field: "body"),
        .init(method: "GET", path: "/v1/tenants?limit=0", body: nil, status: 400, field: "limit"),
        .init(method: "GET", path: "/v1/tenants?limit=1001", body: nil, status: 400, field: "limit"),
        .init(method: "GET", path: "/v1/tenants?cursor=bm9wZQ", body: nil, status: 400, field: "cursor"),
        .init(method: "GET", path: "/v1/tenants/nobody", body: nil, status: 404, field: nil),
        .init(method: "PATCH", path: "/v1/tenants/default", body: #"{"name":7}"#, status: 400, field: "name"),
        .init(method: "DELETE", path: "/v1/tenants/default?force=maybe", body: nil, status: 400, field: "force"),
        .init(method: "DELETE", path: "/v1/tenants/default", body: nil, status: 409, field: nil),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"events":["case.lost"]}"#, status: 400, field: "url"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"ftp://x.example.com"}"#, status: 400, field: "url"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","events":["case.exploded"]}"#, status: 400, field: "events"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","events":[]}"#, status: 400, field: "events"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","rate_limit":-1}"#, status: 400, field: "rate_limit"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","rate_limit":"fast"}"#, status: 400, field: "rate_limit"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","headers":{"Host":"evil"}}"#, status: 400, field: "headers"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","headers":{"X-N":9007199254740993}}"#, status: 400, field: "headers.X-N"),
        .init(method: "POST", path: "/v1/tenants/default/endpoints", body: #"{"url":"https://x.example.com","secret":"short"}"#, status: 400, field: "secret"),
        .init(method: "POST", path: "/v1/tenants/nobody/endpoints", body: #"{"url":"https://x.example.com"}"#, status: 404, field: nil),
        .init(method: "GET", path: "/v1/tenants/nobody/endpoints", body: nil, status: 404, field: nil),
        .init(method: "GET", path: "/v1/endpoints/ep_01NOSUCHENDPOINT0000000000", body: nil, status: 404, field: nil),
        .init(method: "GET", path: "/v1/endpoints/evt_1", body: nil, status: 400, field: nil),
        .init(method: "PATCH", path: "/v1/endpoints/$EP", body: "{}", status: 400, field: "body"),
        .init(method: "PATCH", path: "/v1/endpoints/$EP", body: #"{"url":"not a url"}"#, status: 400, field: "url"),
        .init(method: "PATCH", path: "/v1/endpoints/$EP", body: #"{"secret":"abc"}"#, status: 400, field: "secret"),
        .init(method: "POST", path: "/v1/endpoints/$EP/disable", body: #"{"reason":5}"#, status: 400, field: "reason"),
        .init(method: "POST", path: "/v1/endpoints/$EP/rotate-secret", body: #"{"grace":"forever"}"#, status: 400, field: "grace"),
        .init(method: "POST", path: "/v1/endpoints/$EP/rotate-secret", body: #"{"grace":"90d"}"#, status: 400, field: "grace"),
        .init(method: "POST", path: "/v1/endpoints/$EP/test", body: #"{"event":"case.exploded"}"#, status: 400, field: "event"),
        .init(method: "POST", path: "/v1/endpoints/$EP/recover", body: #"{"since":"last tuesday"}"#, status: 400, field: "since"),
        .init(method: "POST", path: "/v1/endpoints/$EP/recover", body: #"{"dry_run":"yes"}"#, status: 400, field: "dry_run"),
        .init(method: "GET", path: "/v1/events?type=case.exploded", body: nil, status: 400, field: "type"),
        .init(method: "GET", path: "/v1/events?tenant=a%20b", body: nil, status: 400, field: "tenant"),
        .init(method: "GET", path: "/v1/events/evt_nosuchevent", body: nil, status: 404, field: nil),
        .init(method: "GET", path: "/v1/deliveries?status=lost", body: nil, status: 400, field: "status"),
        .init(method: "GET", path: "/v1/deliveries?endpoint=dlv_1", body: nil, status: 400, field: "endpoint"),
        .init(method: "GET", path: "/v1/deliveries?event=x", body: nil, status: 400, field: "event"),
        .init(method: "GET", path: "/v1/deliveries/dlv_01NOSUCHDELIVERY0000000000", body: nil, status: 404, field: nil),
        .init(method: "POST", path: "/v1/deliveries/dlv_01NOSUCHDELIVERY0000000000/redeliver", body: nil, status: 404, field: nil),
    ]

    @Test(arguments: StoreBackend.available)
    func everyRouteRefusesBadInputWithASentenceAndChangesNothing(_ backend: StoreBackend) async throws {
        try await ManagementServer.with(backend) { server in
            let endpoint = try await server.operations.addEndpoint(url: "https://kept.example.com/hook")
            _ = try await server.operations.emit(type: "case.lost", data: try JSONValue.parse(Self.lost))
            func snapshot() async throws -> String {
                let tenants = try await server.store.tenants(after: nil, limit: 100).map { "\($0)" }
                let endpoints = try await server.store.endpoints().map { "\($0)" }
                let deliveries = try await server.store.deliveries(DeliveryQuery(limit: 100)).map { "\($0)" }
                let audit = try await server.store.auditEntries(limit: 1000).count
                return "\(tenants)\(endpoints)\(deliveries)\(audit)"
            }
            let before = try await snapshot()
            for bad in Self.badRequests {
                let path = bad.path.replacingOccurrences(of: "$EP", with: endpoint.id)
                let answer = try await server.call(.init(rawValue: bad.method), path, bad.body)
                #expect(answer.status == bad.status, "\(bad): \(answer)")
                let sentence = answer.json["error"]?.stringValue ?? ""
                #expect(sentence.hasSuffix(".") && sentence.count > 15, "\(bad): one sentence, not \(answer)")
                if let field = bad.field { #expect(answer.json["field"] == .string(field), "\(bad): \(answer)") }
            }
            #expect(try await snapshot() == before, "no bad request changed anything")
            let unsupported = try await server.call(.POST, "/v1/tenants", #"{"id":"t9"}"#, contentType: "text/json")
            #expect(unsupported.status == 415)
            #expect(try await server.call(.GET, "/v1/tenants", token: "wrong").status == 401)
            #expect(try await server.call(.GET, "/v1/tenants", token: nil).status == 401)
            #expect(try await snapshot() == before)
        }
    }
}
