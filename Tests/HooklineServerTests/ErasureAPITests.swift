import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

/// `POST /v1/events/{id}/redact` and `/v1/tenants/{tenant}/erase`: what a SaaS's dashboard calls on
/// a customer's erasure request, within the token's tenant only.
@Suite struct ErasureAPITests {
    static let lost = #"{"case":{"id":"case_9","customer":{"email":"ann@globex.example"}},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#

    @Test(arguments: StoreBackend.available)
    func aTenantTokenRedactsAndErasesOnlyItsOwnData(_ backend: StoreBackend) async throws {
        try await ManagementServer.with(backend) { server in
            let operations = server.operations
            for tenant in ["acme", "globex"] {
                _ = try await operations.addTenant(id: tenant)
                _ = try await operations.addEndpoint(url: "https://\(tenant).example.com/hook", tenant: tenant)
            }
            let acme = try await operations.emit(type: "case.lost", data: try JSONValue.parse(Self.lost), tenant: "acme").summary.event
            let globex = try await operations.emit(type: "case.lost", data: try JSONValue.parse(Self.lost), tenant: "globex").summary.event
            let token = try await operations.issueToken(tenant: "acme").value

            // globex's event and tenant do not exist for acme's token; nothing of globex's changes.
            #expect(try await server.call(.POST, "/v1/events/\(globex.id)/redact", token: token).status == 404)
            #expect(try await server.call(.POST, "/v1/tenants/globex/erase", token: token).status == 404)
            #expect(try await operations.event(id: globex.id).event.redactedAt == nil)

            let redacted = try await server.call(.POST, "/v1/events/\(acme.id)/redact", token: token)
            #expect(redacted.status == 200, "\(redacted)")
            #expect(redacted.json["redacted"] == .array([.string(acme.id)]) && redacted.json["cancelled_deliveries"] == .number(1))
            let shown = try await server.call(.GET, "/v1/events/\(acme.id)", token: token)
            #expect(shown.json["payload"]?["data"] == .string(RedactionPlan.marker) && shown.json["redacted_at"]?.stringValue != nil)
            let delivery = try #require(shown.json["delivery_list"]?.arrayValue?.first?["id"]?.stringValue)
            let again = try await server.call(.POST, "/v1/deliveries/\(delivery)/redeliver", token: token)
            #expect(again.status == 409 && again.json["error"]?.stringValue?.contains("its event was redacted") == true, "\(again)")
            #expect(try await server.call(.POST, "/v1/events/\(acme.id)/redact", #"{"why":"x"}"#, token: token).status == 400, "no body fields")

            let erased = try await server.call(.POST, "/v1/tenants/acme/erase", token: token)
            #expect(erased.status == 200 && erased.json["tenant"] == .string("acme") && erased.json["already_redacted"] == .number(1), "\(erased)")
            // The admin erases globex.
            let admin = try await server.call(.POST, "/v1/tenants/globex/erase")
            #expect(admin.status == 200 && admin.json["redacted_count"] == .number(1))
            let audit = try await server.store.auditEntries(limit: 10)
            #expect(audit.filter { $0.action == "event.redact" }.map(\.targetIDs) == [[acme.id]])
            #expect(audit.contains { $0.action == "tenant.erase" && $0.targetIDs == [globex.id] && $0.actor == .api })
        }
    }
}
