import Foundation
import GRDB
import HooklineTestSupport
import Testing

/// `hookline event redact` and `tenant erase` as an operator runs them after a customer's request.
@Suite struct RedactionCommandTests {
    static let secret = "jane.doe.secret@example.com"
    static let event = #"{"case":{"id":"c","customer":{"email":"jane.doe.secret@example.com"}},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#

    /// Rows of the database's tables that hold `text` (payload blobs read as UTF-8).
    static func tables(containing text: String, _ cli: CLI) throws -> [String] {
        let queue = try DatabaseQueue(path: cli.database)
        defer { try? queue.close() }
        return try queue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").filter { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").contains { row in
                    row.databaseValues.contains { value in
                        switch value.storage {
                        case .string(let s): return s.contains(text)
                        case .blob(let d): return String(decoding: d, as: UTF8.self).contains(text)
                        default: return false
                        }
                    }
                }
            }
        }
    }

    @Test func aRedactedEventShowsItsHistoryWithoutItsDataAndIsNotRedelivered() async throws {
        let cli = CLI()
        defer { cli.remove() }
        // The receiver echoes the customer's address back: it lands in the response excerpts.
        let receiver = try await ScriptedReceiver { _, _ in .init(status: 200, body: #"{"seen":"jane.doe.secret@example.com"}"#) }
        #expect(try await cli.run(["tenant", "add", "acme"]).status == 0)
        #expect(try await cli.run(["endpoint", "add", receiver.url(), "--tenant", "acme"]).status == 0)
        let emitted = try await cli.run(["emit", "case.lost", "--data", Self.event, "--tenant", "acme", "--json"])
        let id = try #require((emitted.json as? [String: Any])?["id"] as? String, "\(emitted.stderr)")
        let served = try await cli.run(["serve", "--drain", "--allow-private-networks", "--retention", "off"])
        #expect(served.status == 0, "\(served.stderr)")
        await receiver.stop()
        let statsBefore = try await cli.run(["stats", "--json"])
        #expect(try Self.tables(containing: Self.secret, cli) == ["attempt", "event"])

        let refused = try await cli.run(["event", "redact", id])
        #expect(refused.status == 64 && refused.stderr == "hookline: Redacting 1 event needs confirmation; pass --yes when not at a terminal.\n")
        let redacted = try await cli.run(["event", "redact", id, "--yes"])
        #expect(redacted.status == 0 && redacted.stdout == "Redacted 1 event; 1 response excerpt cleared.\n", "\(redacted.stderr)")

        let shown = try await cli.run(["event", "show", id])
        #expect(shown.status == 0 && !shown.stdout.contains(Self.secret) && shown.stdout.contains(#""data": "[redacted]""#), "\(shown.stdout)")
        #expect(shown.stdout.contains("Redacted "), "the event says when it was redacted")
        let json = try await cli.run(["event", "show", id, "--json"])
        let object = try #require(json.json as? [String: Any])
        #expect(object["redacted_at"] is String && (object["payload"] as? [String: Any])?["data"] as? String == "[redacted]")
        let delivery = try #require((object["delivery_list"] as? [[String: Any]])?.first)
        #expect(delivery["status"] as? String == "succeeded")
        let deliveryID = try #require(delivery["id"] as? String)
        let attempts = try await cli.run(["attempts", deliveryID, "--json"])
        #expect(!attempts.stdout.contains(Self.secret) && attempts.stdout.contains("[redacted]"), "\(attempts.stdout)")
        #expect(try Self.tables(containing: Self.secret, cli) == [], "gone from every table")
        // The figures are those from before.
        let statsAfter = try await cli.run(["stats", "--json"])
        #expect((statsAfter.json as? [String: Any])?["deliveries"] as? [String: Int] == (statsBefore.json as? [String: Any])?["deliveries"] as? [String: Int])

        let again = try await cli.run(["redeliver", deliveryID])
        #expect(again.status == 75)
        #expect(again.stderr == "hookline: The delivery \(deliveryID) cannot be sent again: its event was redacted, so there is nothing left to send.\n")

        // The tenant: a second event, never delivered, is cancelled by the erasure.
        #expect(try await cli.run(["emit", "case.lost", "--data", Self.event, "--tenant", "acme"]).status == 0)
        let erased = try await cli.run(["tenant", "erase", "acme", "--yes", "--json"])
        let report = try #require(erased.json as? [String: Any], "\(erased.stderr)")
        #expect(report["tenant"] as? String == "acme" && report["redacted_count"] as? Int == 1 && report["already_redacted"] as? Int == 1)
        #expect(report["cancelled_deliveries"] as? Int == 1)
        #expect(try Self.tables(containing: Self.secret, cli) == [])
        let pending = try await cli.run(["deliveries", "--status", "pending", "--json"])
        #expect((pending.json as? [Any])?.isEmpty == true)

        let audit = try DatabaseQueue(path: cli.database)
        let actions = try await audit.read { db in try String.fetchAll(db, sql: "SELECT action || ' ' || target_ids FROM audit ORDER BY id") }
        try audit.close()
        #expect(actions.contains("event.redact \(id)") && actions.contains { $0.hasPrefix("tenant.erase ") })
    }
}
