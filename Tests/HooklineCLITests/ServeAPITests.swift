import AsyncHTTPClient
import Foundation
import HooklineCore
import NIOCore
import Synchronization
import Testing

/// `hookline serve --listen` as a producer and a monitoring system see it: curl-like requests, then
/// the metrics page after real deliveries.
@Suite(.serialized) struct ServeAPITests {
    /// What serve wrote on stderr (JSON log lines), read to the end in the background.
    final class ServeLog: Sendable {
        let text = Mutex("")
    }

    /// Starts serve with the API on a free port; returns the process and the port from its JSON log.
    /// Its stderr keeps being read (into `log`, when given), so that serve never blocks on a full pipe.
    func startServe(_ cli: CLI, _ extra: [String], log: ServeLog = ServeLog()) async throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--db", cli.database, "--listen", "127.0.0.1:0", "--log-format", "json"] + extra
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let reader = UncheckedHandle(handle: errors.fileHandleForReading)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        Thread {
            var announced = false
            while true {
                let chunk = reader.handle.availableData
                if chunk.isEmpty { break }
                let text = log.text.withLock { $0 += String(decoding: chunk, as: UTF8.self); return $0 }
                guard !announced else { continue }
                for line in text.split(separator: "\n") where line.contains("ingest API listening") {
                    if let range = line.range(of: #":\d+""#, options: .regularExpression) {
                        continuation.yield(Int(line[range].dropFirst().dropLast()) ?? 0)
                        announced = true
                    }
                }
            }
            continuation.finish()
        }.start()
        var iterator = ports.makeAsyncIterator()
        return (process, await iterator.next() ?? 0)
    }

    /// A verifying receiver on a free port, added to the CLI's database as an endpoint.
    func receiverWithEndpoint(_ cli: CLI) async throws -> ServeTests.Receivers {
        let receivers = ServeTests.Receivers()
        try await receivers.start(count: 1, secret: ServeTests.secret)
        let receiverPort = receivers.ports.withLock { $0[0] }
        try await cli.run(["endpoint", "add", "http://127.0.0.1:\(receiverPort)/hook", "--secret", ServeTests.secret])
        return receivers
    }

    func post(_ port: Int, _ path: String, token: String, body: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    @Test func anEventPostedToServeIsDeliveredAndCountedInTheMetrics() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receivers = try await receiverWithEndpoint(cli)
        let token = "serve-api-token-0123456789"
        let (serve, port) = try await startServe(cli, ["--api-token", token, "--allow-private-networks"])
        defer { serve.terminate() }
        #expect(port > 0)

        let (status, body) = try await post(port, "/v1/events", token: token, body: #"{"event":"customer.risk_changed","data":{"customer":{"id":"u1"},"risk_change":{"from":"low","to":"high"}}}"#)
        #expect(status == 202, "\(body)")
        let deadline = Date().addingTimeInterval(20)
        while receivers.total < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(receivers.total == 1)

        let (healthStatus, health) = try await get(port, "/v1/health")
        #expect(healthStatus == 200)
        #expect(health.contains(#""dispatcher":"running""#))
        var metrics = ""
        while Date() < deadline {
            metrics = try await get(port, "/metrics").1
            if metrics.contains("hookline_deliveries_total{") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(metrics.contains(#"hookline_deliveries_total{endpoint=""#) && metrics.contains(#"outcome="succeeded"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"hookline_attempts_total{status_class="2xx"} 1"#))
        #expect(metrics.contains("hookline_attempt_duration_seconds_bucket{"))
        #expect(metrics.contains(#"hookline_ingest_requests_total{status="202"} 1"#))
        #expect(metrics.contains("hookline_claim_lag_seconds_count"))
        #expect(metrics.contains("hookline_breaker_state{"))

        serve.terminate()
        await serve.exit()
        #expect(serve.terminationStatus == 0)
        await receivers.stop()
    }

    @Test func listeningWithoutATokenIsRefusedUnlessLoopbackAndInsecure() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let refused = try await cli.run(["serve", "--drain", "--listen", "127.0.0.1:0"], stdin: nil)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--listen needs --api-token"))
        let everywhere = try await cli.run(["serve", "--drain", "--listen", "0.0.0.0:0", "--insecure-no-auth"])
        #expect(everywhere.status == 64)
        #expect(everywhere.stderr.contains("only on a loopback address"))
        let allowed = try await cli.run(["serve", "--drain", "--listen", "127.0.0.1:0", "--insecure-no-auth"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func aConfigFileSetsWhatFlagsWouldAndRefusesUnknownKeys() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let good = cli.directory + "/hookline.yaml"
        try Data("retry_schedule: 0s,1s\ntimeout: 2s\nlease: 10s\nallow_private_networks: true\n".utf8).write(to: URL(fileURLWithPath: good))
        let ok = try await cli.run(["serve", "--drain", "--config", good])
        #expect(ok.status == 0, "\(ok.stderr)")
        let bad = cli.directory + "/bad.yaml"
        try Data("timeout: 2s\nretry_shedule: 0s\n".utf8).write(to: URL(fileURLWithPath: bad))
        let unknown = try await cli.run(["serve", "--drain", "--config", bad])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("bad.yaml, line 2: unknown key 'retry_shedule'"), "\(unknown.stderr)")
        let wrong = cli.directory + "/wrong.yaml"
        try Data("timeout: soon\n".utf8).write(to: URL(fileURLWithPath: wrong))
        let value = try await cli.run(["serve", "--drain", "--config", wrong])
        #expect(value.stderr.contains("wrong.yaml, line 1: timeout 'soon' is not a duration"), "\(value.stderr)")
        let overridden = try await cli.run(["serve", "--drain", "--config", wrong, "--timeout", "3s"])
        #expect(overridden.stderr.contains("timeout 'soon' is not a duration"), "the file is checked whole even when a flag wins")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")))
    func aFailingDiskIsReportedWhatWasCommittedStaysAndServeResumesWhenSpaceReturns() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receivers = try await receiverWithEndpoint(cli)
        let token = "serve-api-token-0123456789"
        let log = ServeLog()
        let (serve, port) = try await startServe(cli, ["--api-token", token, "--allow-private-networks"], log: log)
        defer { serve.terminate() }
        let event = #"{"event":"customer.risk_changed","data":{"customer":{"id":"u1"},"risk_change":{"from":"low","to":"high"}}}"#
        for _ in 0..<3 { #expect(try await post(port, "/v1/events", token: token, body: event).0 == 202) }
        try await waitUntil { receivers.total == 3 }

        // The disk is "full": no file of serve's may grow past one byte.
        #expect(try await cli.runTool("/usr/bin/prlimit", ["--pid", "\(serve.processIdentifier)", "--fsize=1:unlimited"]) == 0)
        let (status, body) = try await post(port, "/v1/events", token: token, body: event)
        #expect(status == 503, "\(body)")
        #expect(body.contains("check the disk") || body.contains("is full"), "\(body)")
        #expect(serve.isRunning, "a failing disk does not stop serve")

        #expect(try await cli.runTool("/usr/bin/prlimit", ["--pid", "\(serve.processIdentifier)", "--fsize=unlimited:unlimited"]) == 0)
        #expect(try await post(port, "/v1/events", token: token, body: event).0 == 202)
        try await waitUntil { receivers.total == 4 }
        serve.terminate()
        await serve.exit()
        await receivers.stop()

        let listed = try await cli.run(["events", "--json", "--limit", "10"])
        #expect((listed.json as? [[String: Any]])?.count == 4, "the three committed events and the one after the disk came back")
        let delivered = try await cli.run(["deliveries", "--status", "succeeded", "--json"])
        #expect((delivered.json as? [[String: Any]])?.count == 4)
    }

    func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(30)
        while !condition() && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(condition())
    }
}

/// A file handle read on another thread.
struct UncheckedHandle: @unchecked Sendable {
    // @unchecked: only the reading thread uses the handle once it is handed over.
    let handle: FileHandle
}
