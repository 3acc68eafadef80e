import Foundation
import HooklineCore
import HooklineTestSupport
import Testing

/// `endpoint test`, `prune`, and `serve --alert-url` / `--retention`, run as a user runs them.
@Suite(.serialized) struct OperatorCommandsTests {
    func emit(_ cli: CLI, _ type: String, _ data: String) async throws {
        let result = try await cli.run(["emit", type, "--data", data])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func addEndpoint(_ cli: CLI, _ url: String) async throws -> String {
        let added = try await cli.run(["endpoint", "add", url, "--json"])
        return try #require((added.json as? [String: Any])?["id"] as? String, "\(added.stderr)")
    }

    @Test func testSendsAndDeliveriesGoThroughTheEgressProxy() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receiver = try await ScriptedReceiver()
        let proxy = try await ConnectProxy()
        let endpoint = try await addEndpoint(cli, receiver.url())
        let sent = try await cli.run(["endpoint", "test", endpoint, "--allow-private-networks", "--proxy", proxy.url])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        // serve takes the proxy from its config file.
        try await emit(cli, "case.lost", #"{"case":{"id":"c"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#)
        let config = cli.directory + "/serve.yaml"
        try "proxy: \(proxy.url)\nallow_private_networks: true\nretention: 'off'\n".write(toFile: config, atomically: true, encoding: .utf8)
        let served = try await cli.run(["serve", "--drain", "--config", config])
        #expect(served.status == 0, "\(served.stderr)")
        await proxy.stop()
        await receiver.stop()

        #expect(receiver.requests.count == 2)
        #expect(proxy.requestLines.count == 2 && proxy.requestLines.allSatisfy { $0 == "POST \(receiver.url()) HTTP/1.1" }, "\(proxy.requestLines)")
    }

    @Test func endpointTestReportsALiveAndADeadReceiver() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receiver = try await ScriptedReceiver()
        let live = try await addEndpoint(cli, receiver.url())
        let dead = try await addEndpoint(cli, "http://127.0.0.1:\(closedPort())/hook")

        let ok = try await cli.run(["endpoint", "test", live, "--allow-private-networks"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("The receiver answered HTTP 200 in"))
        #expect(ok.stdout.contains(#"Response: {"received":true}"#))
        let json = try await cli.run(["endpoint", "test", live, "--event", "case.lost", "--allow-private-networks", "--json"])
        let object = try #require(json.json as? [String: Any])
        #expect(object["succeeded"] as? Bool == true)
        #expect(object["trigger"] as? String == "test")
        #expect(object["event_type"] as? String == "case.lost")
        #expect(receiver.requests.count == 2)
        #expect(receiver.requests.last?.headers["x-webhook-event"] == "case.lost")

        let failed = try await cli.run(["endpoint", "test", dead, "--allow-private-networks"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("connection refused"))
        #expect(failed.stdout.contains("Check the connection"))
        let guarded = try await cli.run(["endpoint", "test", live])
        #expect(guarded.status == 1)
        #expect(guarded.stdout.contains("--allow-private-networks"))
        await receiver.stop()

        // Tests are not events: nothing is queued or listed.
        let events = try await cli.run(["events", "--json"])
        #expect((events.json as? [Any])?.isEmpty == true)
        let deliveries = try await cli.run(["deliveries", "--json"])
        #expect((deliveries.json as? [Any])?.isEmpty == true)
    }

    @Test func pruneDryRunChangesNothingAndKeepsFailedDeliveries() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receiver = try await ScriptedReceiver()
        let live = try await addEndpoint(cli, receiver.url())
        for _ in 0..<3 {
            try await cli.run(["emit", "customer.risk_changed", "--data", #"{"customer":{"id":"u"},"risk_change":{"from":"low","to":"high"}}"#])
        }
        let drained = try await cli.run(["serve", "--drain", "--allow-private-networks", "--retention", "off"])
        #expect(drained.status == 0, "\(drained.stderr)")
        // Then one event whose only delivery fails for good.
        // (Unsubscribed, not disabled: a disabled endpoint would get a held delivery, which pruning keeps.)
        let unsubscribed = try await cli.run(["endpoint", "unsubscribe", live, "case.lost"])
        #expect(unsubscribed.status == 0, "\(unsubscribed.stderr)")
        let dead = try await addEndpoint(cli, "http://127.0.0.1:\(closedPort())/hook")
        try await emit(cli, "case.lost", #"{"case":{"id":"c"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#)
        let failing = try await cli.run(["serve", "--drain", "--allow-private-networks", "--retry-schedule", "0s", "--connect-timeout", "1s", "--retention", "off"])
        #expect(failing.status == 0, "\(failing.stderr)")
        await receiver.stop()
        let failed = try await cli.run(["deliveries", "--status", "failed", "--endpoint", dead, "--json"])
        #expect((failed.json as? [Any])?.count == 1)

        let before = try cli.snapshot()
        let dry = try await cli.run(["prune", "--older-than", "0s", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("Would remove 3 events, 3 deliveries, 3 attempts"))
        #expect(dry.stdout.contains("dry run: nothing changed"))
        #expect(dry.stdout.contains("Kept 1 old event"))
        #expect(try cli.snapshot() == before, "a dry run changes nothing")

        let real = try await cli.run(["prune", "--older-than", "0s", "--json"])
        let report = try #require(real.json as? [String: Any], "\(real.stderr)")
        #expect(report["events"] as? Int == 3)
        #expect(report["kept_events"] as? Int == 1)
        #expect(report["dry_run"] as? Bool == false)
        let left = try #require(try await cli.run(["events", "--json"]).json as? [[String: Any]])
        #expect(left.count == 1, "the event with a failed delivery stays")
        #expect(left.first?["type"] as? String == "case.lost")

        let withFailed = try await cli.run(["prune", "--older-than", "0s", "--include-failed"])
        #expect(withFailed.stdout.contains("Removed 1 event, 1 delivery, 1 attempt"))
        #expect((try await cli.run(["events", "--json"]).json as? [Any])?.isEmpty == true)
        let young = try await cli.run(["prune", "--older-than", "30d"])
        #expect(young.stdout.contains("Removed 0 events"))
    }

    @Test func serveAlertsAReceiverAndNeverLogsTheAlertToken() async throws {
        var cli = CLI()
        defer { cli.remove() }
        cli.environment["HOOKLINE_LOG_LEVEL"] = "debug"
        let gone = try await ScriptedReceiver { _, _ in .init(status: 410) }
        let alerts = try await ScriptedReceiver()
        let endpoint = try await addEndpoint(cli, gone.url())
        try await emit(cli, "case.lost", #"{"case":{"id":"c"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#)
        let token = "T0KEN-s3cr3t-4f9a"
        let served = try await cli.run([
            "serve", "--drain", "--allow-private-networks", "--alert-url", alerts.url("/services/\(token)"), "--retention", "off",
        ])
        await gone.stop()
        await alerts.stop()
        #expect(served.status == 0, "\(served.stderr)")
        let posted = try #require(alerts.requests.first)
        #expect(posted.path == "/services/\(token)")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(posted.body)) as? [String: Any])
        #expect(body["kind"] as? String == "endpoint_disabled")
        #expect(body["endpoint_id"] as? String == endpoint)
        #expect((body["text"] as? String)?.contains("410 Gone") == true)
        #expect(served.stderr.contains("posting alerts"), "the alert URL is logged, redacted")
        #expect(served.stderr.contains("http://127.0.0.1:\(alerts.port)/…"))
        #expect(!served.stderr.contains(token), "the token never appears in the logs")

        // A dead alert receiver, set in the config file: the failure is logged, the token still is not.
        let deadPort = closedPort()
        _ = try await addEndpoint(cli, "http://127.0.0.1:\(closedPort())/hook")
        try await emit(cli, "case.lost", #"{"case":{"id":"c2"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#)
        let config = cli.directory + "/serve.yaml"
        try "alert_url: http://127.0.0.1:\(deadPort)/services/\(token)?key=\(token)\nretention: 'off'\n".write(toFile: config, atomically: true, encoding: .utf8)
        let unreachable = try await cli.run([
            "serve", "--drain", "--allow-private-networks", "--retry-schedule", "0s", "--connect-timeout", "1s", "--config", config,
        ])
        #expect(unreachable.status == 0, "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("posting an alert failed"))
        #expect(!unreachable.stderr.contains(token))
    }

    @Test func serveWithRetentionPrunesFinishedEventsWhileItRuns() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receiver = try await ScriptedReceiver()
        _ = try await addEndpoint(cli, receiver.url())
        for _ in 0..<4 {
            try await cli.run(["emit", "customer.risk_changed", "--data", #"{"customer":{"id":"u"},"risk_change":{"from":"low","to":"high"}}"#])
        }
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: CLI.binary)
        serve.arguments = ["serve", "--db", cli.database, "--allow-private-networks", "--retention", "2s"]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        var remaining = -1
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(250))
            remaining = (try await cli.run(["events", "--json"]).json as? [Any])?.count ?? -1
            if remaining == 0 { break }
        }
        serve.terminate()
        await serve.exit()
        await receiver.stop()
        #expect(receiver.requests.count == 4, "every event was delivered first")
        #expect(remaining == 0, "delivered events older than 2s were pruned while serve ran")
        #expect(serve.terminationStatus == 0)
    }
}
