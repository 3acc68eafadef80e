import Foundation
import HooklineTestSupport
import Testing

/// Tenants from the command line, delivered for real: `serve --drain` sends each tenant's events
/// only to its own receivers, with their custom headers.
@Suite struct TenantCommandsTests {
    static let lost = #"{"case":{"id":"c"},"loss_details":{"lost_at":"x","reason":"y"}}"#

    @Test func eachTenantsEventsReachOnlyItsReceiversWithTheirHeaders() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let acmeReceiver = try await ScriptedReceiver()
        let globexReceiver = try await ScriptedReceiver()

        let added = try await cli.run(["tenant", "add", "acme", "--name", "Acme Corp", "--metadata", "plan=pro", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let tenant = try #require(added.json as? [String: Any])
        #expect(tenant["id"] as? String == "acme" && tenant["name"] as? String == "Acme Corp")
        #expect((tenant["metadata"] as? [String: String]) == ["plan": "pro"])
        #expect(try await cli.run(["tenant", "add", "globex"]).status == 0)
        let again = try await cli.run(["tenant", "add", "acme"])
        #expect(again.status == 75 && again.stderr.contains("exists already"))

        let acmeAdd = try await cli.run([
            "endpoint", "add", acmeReceiver.url(), "--tenant", "acme", "--header", "X-Api-Key: k-123456789", "--header", "X-Region: eu", "--json"])
        let acme = try #require(acmeAdd.json as? [String: Any], "\(acmeAdd.stderr)")
        #expect(acme["tenant"] as? String == "acme")
        #expect((acme["headers"] as? [String: String]) == ["X-Api-Key": "k-123456789", "X-Region": "eu"], "shown in full once, like the secret")
        let acmeID = try #require(acme["id"] as? String)
        let globexAdd = try await cli.run(["endpoint", "add", globexReceiver.url(), "--tenant", "globex", "--json"])
        let globexID = try #require((globexAdd.json as? [String: Any])?["id"] as? String)

        // Listings: masked credentials, one tenant's endpoints.
        let shown = try await cli.run(["endpoint", "show", acmeID])
        #expect(shown.stdout.contains("Tenant       acme"))
        #expect(shown.stdout.contains("X-Api-Key: ••••6789") && shown.stdout.contains("X-Region: eu"), "\(shown.stdout)")
        #expect(!shown.stdout.contains("k-123456789"))
        let table = try await cli.run(["endpoint", "list"])
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID") == true && lines.first?.contains("TENANT") == true, "\(table.stdout)")
        #expect(lines.contains { $0.contains(acmeID) && $0.contains(" acme ") })
        let listed = try await cli.run(["endpoint", "list", "--tenant", "globex", "--json"])
        #expect((listed.json as? [[String: Any]])?.map { $0["id"] as? String } == [globexID])

        #expect(try await cli.run(["emit", "case.lost", "--data", Self.lost, "--tenant", "acme"]).status == 0)
        #expect(try await cli.run(["emit", "case.lost", "--data", Self.lost, "--tenant", "acme"]).status == 0)
        #expect(try await cli.run(["emit", "case.lost", "--data", Self.lost, "--tenant", "globex"]).status == 0)
        let none = try await cli.run(["emit", "case.lost", "--data", Self.lost, "--json"])
        #expect((none.json as? [String: Any])?["deliveries"] as? Int == 0, "the default tenant has no endpoints")
        let events = try await cli.run(["events", "--tenant", "acme", "--json"])
        #expect((events.json as? [[String: Any]])?.count == 2)
        #expect((events.json as? [[String: Any]])?.allSatisfy { $0["tenant"] as? String == "acme" } == true)
        // Listings scoped to a tenant, a page at a time.
        let page = try await cli.run(["events", "--tenant", "acme", "--limit", "1"])
        #expect(page.stdout.contains("--after evt_"), "\(page.stdout)")
        let newest = try #require((events.json as? [[String: Any]])?.first?["id"] as? String)
        let older = try await cli.run(["events", "--tenant", "acme", "--after", newest, "--json"])
        #expect((older.json as? [[String: Any]])?.map { $0["id"] as? String } == [(events.json as? [[String: Any]])?.last?["id"] as? String])
        let acmeDeliveries = try await cli.run(["deliveries", "--tenant", "acme", "--json"])
        #expect((acmeDeliveries.json as? [[String: Any]])?.count == 2)
        #expect((acmeDeliveries.json as? [[String: Any]])?.allSatisfy { $0["tenant"] as? String == "acme" } == true)
        let globexDeliveries = try await cli.run(["deliveries", "--tenant", "globex", "--json"])
        let globexDelivery = try #require((globexDeliveries.json as? [[String: Any]])?.first?["id"] as? String)
        #expect((globexDeliveries.json as? [[String: Any]])?.count == 1)
        let breakers = try await cli.run(["breaker", "list", "--tenant", "globex", "--json"])
        #expect((breakers.json as? [[String: Any]])?.map { $0["endpoint_id"] as? String } == [globexID])
        let foreign = try await cli.run(["redeliver", globexDelivery, "--tenant", "acme"])
        #expect(foreign.status != 0 && foreign.stderr.contains("No delivery of tenant acme"), "\(foreign.stderr)")
        #expect(try await cli.run(["redeliver", globexDelivery, "--tenant", "globex"]).status == 0)
        let unknown = try await cli.run(["deliveries", "--tenant", "initech"])
        #expect(unknown.status != 0 && unknown.stderr.contains("initech"), "\(unknown.stderr)")

        let served = try await cli.run(["serve", "--drain", "--allow-private-networks"])
        #expect(served.status == 0, "\(served.stderr)")
        await acmeReceiver.stop()
        await globexReceiver.stop()
        #expect(acmeReceiver.requests.count == 2)
        #expect(globexReceiver.requests.count == 1)
        #expect(acmeReceiver.requests.allSatisfy { $0.headers["x-api-key"] == "k-123456789" && $0.headers["x-region"] == "eu" })
        #expect(acmeReceiver.requests.allSatisfy { $0.headers["x-webhook-signature"] != nil })
        #expect(globexReceiver.requests.allSatisfy { $0.headers["x-api-key"] == nil })

        // Removal: refused with endpoints, done with --force.
        let refused = try await cli.run(["tenant", "remove", "globex"])
        #expect(refused.status == 75 && refused.stderr.contains("pass --force"), "\(refused.stderr)")
        let removed = try await cli.run(["tenant", "remove", "globex", "--force", "--json"])
        #expect((removed.json as? [String: Any])?["endpoints_removed"] as? Int == 1, "\(removed.stderr)")
        let tenants = try await cli.run(["tenant", "list", "--json"])
        #expect((tenants.json as? [[String: Any]])?.map { $0["id"] as? String } == ["acme", "default"])
        let gone = try await cli.run(["endpoint", "show", globexID])
        #expect(gone.status == 66)
    }

    @Test func aTenantTokenIsIssuedOnceListedWithoutItsValueAndRevoked() async throws {
        let cli = CLI()
        defer { cli.remove() }
        #expect(try await cli.run(["tenant", "add", "acme"]).status == 0)
        let issued = try await cli.run(["tenant", "token", "acme", "--json"])
        let token = try #require(issued.json as? [String: Any], "\(issued.stderr)")
        let value = try #require(token["token"] as? String)
        let id = try #require(token["id"] as? String)
        #expect(value.hasPrefix("hlt_") && id.hasPrefix("tok_"))
        let listed = try await cli.run(["tenant", "token", "acme", "--list"])
        #expect(listed.stdout.contains(id) && !listed.stdout.contains(value), "the value is shown once only: \(listed.stdout)")
        let revoked = try await cli.run(["tenant", "token", "acme", "--revoke", id, "--json"])
        #expect((revoked.json as? [String: Any])?["revoked_at"] is String, "\(revoked.stdout)\(revoked.stderr)")
        let unknown = try await cli.run(["tenant", "token", "globex"])
        #expect(unknown.status != 0 && unknown.stderr.contains("globex"), "\(unknown.stderr)")
        let both = try await cli.run(["tenant", "token", "acme", "--list", "--revoke", id])
        #expect(both.status != 0 && both.stderr.contains("--list and --revoke"))
        let other = try await cli.run(["tenant", "token", "default", "--revoke", id])
        #expect(other.status != 0 && other.stderr.contains("No token"), "a token is revoked only through its own tenant: \(other.stderr)")
    }
}
