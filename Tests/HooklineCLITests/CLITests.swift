import Foundation
import GRDB
import Testing

/// The CLI as a user types it: the real binary, a real database file, stdout, stderr and exit codes.
@Suite struct CLITests {
    static let caseCreated = #"{"case":{"id":"case_1","user_id":"user_1","status":"active","risk_level":"high","trigger_event":{"type":"payment_failed"},"customer":{"id":"user_1","email":"c@example.com","lifetime_value":1250.00}}}"#

    @Test func endpointLifecycleWithJSONKeysForScripts() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let added = try await cli.run(["endpoint", "add", "https://example.com/hook", "--events", "case.created,case.lost", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let endpoint = try #require(added.json as? [String: Any])
        let id = try #require(endpoint["id"] as? String)
        let secret = try #require(endpoint["secret"] as? String)
        #expect(id.hasPrefix("ep_"))
        #expect(secret.count == 64)
        #expect(endpoint["url"] as? String == "https://example.com/hook")
        #expect(endpoint["enabled"] as? Bool == true)
        #expect(endpoint["events"] as? [String] == ["case.created", "case.lost"])

        let listed = try await cli.run(["endpoint", "list", "--json"])
        let rows = try #require(listed.json as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows[0]["secret"] == nil, "listings never carry the secret")
        #expect(!listed.stdout.contains(secret))

        let shown = try await cli.run(["endpoint", "show", id])
        #expect(shown.stdout.contains("••••" + secret.suffix(4)))
        #expect(!shown.stdout.contains(secret))
        let revealed = try await cli.run(["endpoint", "show", id, "--reveal-secret", "--json"])
        #expect((revealed.json as? [String: Any])?["secret"] as? String == secret)

        let disabled = try await cli.run(["endpoint", "disable", id, "--json"])
        #expect((disabled.json as? [String: Any])?["enabled"] as? Bool == false)
        #expect(try await cli.run(["endpoint", "enable", id]).stdout.contains("Enabled \(id)"))
        let subscribed = try await cli.run(["endpoint", "subscribe", id, "incentive.applied", "--json"])
        #expect((subscribed.json as? [String: Any])?["events"] as? [String] == ["case.created", "case.lost", "incentive.applied"])
        let unsubscribed = try await cli.run(["endpoint", "unsubscribe", id, "case.lost", "--json"])
        #expect((unsubscribed.json as? [String: Any])?["events"] as? [String] == ["case.created", "incentive.applied"])
        #expect(try await cli.run(["endpoint", "remove", id]).status == 0)
        #expect(try await cli.run(["endpoint", "list", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func endpointAndBreakerListingsComeInPagesWithACursor() async throws {
        let cli = CLI()
        defer { cli.remove() }
        var ids: [String] = []
        for index in 0..<5 {
            let added = try await cli.run(["endpoint", "add", "https://customer-\(index).example.com/hook", "--json"])
            ids.append(try #require((added.json as? [String: Any])?["id"] as? String))
        }
        for command in [["endpoint", "list"], ["breaker", "list"]] {
            let key = command[0] == "endpoint" ? "id" : "endpoint_id"
            var seen: [String] = []
            var after: [String] = []
            for _ in 0..<4 {
                let page = try await cli.run(command + ["--limit", "2", "--json"] + after)
                let rows = try #require(page.json as? [[String: Any]], "\(page.stderr)")
                if rows.isEmpty { break }
                seen += rows.compactMap { $0[key] as? String }
                after = ["--after", seen.last!]
            }
            #expect(seen == ids.sorted(), "\(command[0]): every endpoint once, in id order")
            let text = try await cli.run(command + ["--limit", "2"])
            #expect(text.stdout.contains("for the next page add --after \(ids.sorted()[1])"))
        }
        let bad = try await cli.run(["endpoint", "list", "--after", "case_1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("case_1"))
    }

    @Test func rotateSecretPrintsTheNewSecretOnceAndMasksTheOldOne() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let added = try await cli.run(["endpoint", "add", "https://example.com/hook", "--json"])
        let endpoint = try #require(added.json as? [String: Any])
        let id = try #require(endpoint["id"] as? String)
        let old = try #require(endpoint["secret"] as? String)

        let rotated = try await cli.run(["endpoint", "rotate-secret", id, "--grace", "2h"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.contains("New secret of \(id): "))
        #expect(rotated.stdout.contains("also signs webhook-signature until"))
        #expect(!rotated.stdout.contains(old), "the old secret is never printed again")

        let shown = try await cli.run(["endpoint", "show", id, "--json"])
        let object = try #require(shown.json as? [String: Any])
        #expect(object["previous_secret_hint"] as? String == "••••" + old.suffix(4))
        #expect(object["previous_secret_until"] is String)
        #expect(object["secret"] == nil && !shown.stdout.contains(old))
        let revealed = try await cli.run(["endpoint", "show", id, "--reveal-secret", "--json"])
        let current = try #require((revealed.json as? [String: Any])?["secret"] as? String)
        #expect(current != old && rotated.stdout.contains(current))
        #expect(!(try String(contentsOfFile: cli.database, encoding: .isoLatin1)).contains(current), "the database holds no secret in plain text")

        let badGrace = try await cli.run(["endpoint", "rotate-secret", id, "--grace", "soon"])
        #expect(badGrace.status == 64 && badGrace.stderr.contains("--grace 'soon' is not a duration"), "\(badGrace.stderr)")
        let tooLong = try await cli.run(["endpoint", "rotate-secret", id, "--grace", "60d"])
        #expect(tooLong.status == 64 && tooLong.stderr.contains("between 0s and 30d"), "\(tooLong.stderr)")
        let unknown = try await cli.run(["endpoint", "rotate-secret", "ep_01NOSUCHENDPOINT0000000000"])
        #expect(unknown.status == 66, "\(unknown.stderr)")
    }

    @Test func textFromAReceiverCannotDriveTheTerminal() async throws {
        let cli = CLI()
        defer { cli.remove() }
        try await cli.run(["endpoint", "add", "https://example.com/hook"])
        try await cli.run(["emit", "case.created", "--data", Self.caseCreated])
        let deliveries = try #require(try await cli.run(["deliveries", "--json"]).json as? [[String: Any]])
        let id = try #require(deliveries.first?["id"] as? String)
        // What a hostile receiver could get recorded: escape sequences in its redirect target.
        let queue = try DatabaseQueue(path: cli.database)
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code, error_class, error_message)
                SELECT id, endpoint_id, 1, 'scheduled', 1, 5, 302, 'redirect', 'redirect to \u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m' FROM delivery WHERE id = ?;
                UPDATE delivery SET last_error = 'redirect to \u{1B}[2J' WHERE id = ?;
                """, arguments: [id, id])
        }
        try queue.close()
        for arguments in [["attempts", id], ["deliveries"]] {
            let listed = try await cli.run(arguments)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("redirect to ?"), "\(listed.stdout)")
            #expect(!listed.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B }, "no control character reaches the terminal")
        }
    }

    @Test func demoHelpAndTheREADMESayTheSameReceivers() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let help = try await cli.run(["demo", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        let phrase = try #require(help.firstMatch(of: /\w+ local receivers \([a-z, -]+\)/)).output
        #expect(phrase == "five local receivers (healthy, flaky, slow, down, rate-limited)", "\(help)")
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8).replacingOccurrences(of: "\n", with: " ")
        #expect(text.contains(String(phrase)), "the README's demo paragraph says what demo --help says")
    }

    @Test func completionScriptsAreGeneratedFromTheCommandDefinitions() async throws {
        let cli = CLI()
        defer { cli.remove() }
        for shell in ["bash", "zsh", "fish"] {
            let script = try await cli.run(["--generate-completion-script", shell])
            #expect(script.status == 0, "\(shell): \(script.stderr)")
            for word in ["endpoint", "rotate-secret", "redeliver", "console", "bench", "--reveal-secret"] {
                #expect(script.stdout.contains(word), "\(shell) completions know \(word)")
            }
        }
    }

    @Test func emitFromArgumentFileAndStdinThenListEverything() async throws {
        let cli = CLI()
        defer { cli.remove() }
        try await cli.run(["endpoint", "add", "https://a.example.com/hook"])
        try await cli.run(["endpoint", "add", "https://b.example.com/hook", "--events", "case.lost"])

        let inline = try await cli.run(["emit", "case.created", "--data", Self.caseCreated, "--json"])
        #expect(inline.status == 0, "\(inline.stderr)")
        let emitted = try #require(inline.json as? [String: Any])
        let eventID = try #require(emitted["id"] as? String)
        #expect(emitted["deliveries"] as? Int == 1)

        let file = cli.directory + "/lost.json"
        try Data(#"{"case":{"id":"case_1"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let fromFile = try await cli.run(["emit", "case.lost", "--data", "@" + file, "--id", "evt_test_123", "--json"])
        #expect((fromFile.json as? [String: Any])?["deliveries"] as? Int == 2)
        let repeated = try await cli.run(["emit", "case.lost", "--data", "@" + file, "--id", "evt_test_123", "--json"])
        #expect((repeated.json as? [String: Any])?["deliveries"] as? Int == 2)
        #expect((repeated.json as? [String: Any])?["created"] as? Bool == false)

        let fromStdin = try await cli.run(["emit", "customer.risk_changed", "--data", "-"],
                                    stdin: #"{"customer":{"id":"u"},"risk_change":{"from":"medium","to":"high"}}"#)
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")

        let events = try #require(try await cli.run(["events", "--json"]).json as? [[String: Any]])
        #expect(events.count == 3)
        #expect(Set(events[0].keys).isSuperset(of: ["id", "type", "created_at", "deliveries"]))
        #expect(try await cli.run(["events", "--type", "case.lost", "--json"]).json.map { ($0 as? [Any])?.count } == 1)

        let shown = try #require(try await cli.run(["event", "show", eventID, "--json"]).json as? [String: Any])
        let payload = try #require(shown["payload"] as? [String: Any])
        #expect(payload["event"] as? String == "case.created")
        #expect(payload["id"] as? String == eventID)
        let human = try await cli.run(["event", "show", eventID])
        #expect(human.stdout.contains("\"lifetime_value\": 1250"))

        let deliveries = try #require(try await cli.run(["deliveries", "--json"]).json as? [[String: Any]])
        #expect(deliveries.count == 4)
        for key in ["id", "event_id", "endpoint_id", "status", "attempts", "next_attempt_at", "last_status_code", "last_error"] {
            #expect(deliveries[0].keys.contains(key), "delivery JSON has \(key)")
        }
        #expect(deliveries.allSatisfy { $0["status"] as? String == "pending" })
        let deliveryID = try #require(deliveries[0]["id"] as? String)
        let attempts = try await cli.run(["attempts", deliveryID, "--json"])
        #expect(attempts.status == 0)
        #expect(attempts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func catalogListsTheSevenTypesWithExamples() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let catalog = try #require(try await cli.run(["catalog", "--json"]).json as? [[String: Any]])
        #expect(catalog.map { $0["type"] as? String } == [
            "case.created", "case.updated", "case.recovered", "case.lost", "incentive.applied", "incentive.expired",
            "customer.risk_changed",
        ])
        #expect(catalog.allSatisfy { $0["example"] is [String: Any] })
        #expect(try await cli.run(["catalog"]).stdout.contains("data.case.customer.id (string)"))
    }

    @Test func verifyExitsZeroForAValidSignatureAndOneOtherwise() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let secret = "a1b2c3d4e5f6789012345678901234567890123456789012345678901234567890"
        let body = #"{"event":"case.created","id":"evt_test_123"}"#
        let file = cli.directory + "/body.json"
        try Data(body.utf8).write(to: URL(fileURLWithPath: file))
        let good = try await cli.run(["verify", "--secret", secret, "--signature", Self.hmac(body, secret), "--payload", "@" + file])
        #expect(good.status == 0)
        #expect(good.stdout.hasPrefix("valid"))
        let bad = try await cli.run(["verify", "--secret", secret + "x", "--signature", Self.hmac(body, secret), "--payload", "-"], stdin: body)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("invalid"))
        let reformatted = try await cli.run(["verify", "--secret", secret, "--signature", Self.hmac(body, secret), "--payload", "-"],
                                      stdin: "{\n  \"event\": \"case.created\",\n  \"id\": \"evt_test_123\"\n}")
        #expect(reformatted.status == 1)
        #expect(reformatted.stderr.contains("compact JSON form"))
        let garbage = try await cli.run(["verify", "--secret", secret, "--signature", "xyz", "--payload", body])
        #expect(garbage.status == 64)
    }

    /// The signature as the guide's curl example computes it.
    static func hmac(_ body: String, _ secret: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-sha256", "-hmac", secret]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(body.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.split(separator: " ").last!.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
