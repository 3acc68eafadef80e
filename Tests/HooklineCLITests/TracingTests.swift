import AsyncHTTPClient
import Foundation
import HooklineTestSupport
import NIOCore
import Testing

/// `serve --otel-endpoint`: one event from the producer's trace to each attempt, as a collector
/// receives it; and a collector that is down costs no delivery.
extension ServeAPITests {
    static let lostEvent = #"{"event":"case.lost","data":{"case":{"id":"c"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}}"#

    func post(_ port: Int, _ path: String, token: String, body: String, headers: [(String, String)]) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func anIngestedEventTracesFromTheProducersSpanToEachAttempt() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let collector = try await OTLPCollector()
        let healthy = try await ScriptedReceiver()
        let failing = try await ScriptedReceiver { _, _ in .init(status: 503) }
        let moved = try await ScriptedReceiver { _, _ in .init(status: 302, headers: [("Location", "https://elsewhere.example.com/hook")]) }
        let first = try await cli.run(["endpoint", "add", healthy.url(), "--json"])
        let second = try await cli.run(["endpoint", "add", failing.url(), "--json"])
        let healthyID = try #require((first.json as? [String: Any])?["id"] as? String)
        let failingID = try #require((second.json as? [String: Any])?["id"] as? String)
        let third = try await cli.run(["endpoint", "add", moved.url(), "--json"])
        let movedID = try #require((third.json as? [String: Any])?["id"] as? String)
        let token = "serve-api-token-0123456789"
        let (serve, port) = try await startServe(cli, [
            "--api-token", token, "--allow-private-networks", "--otel-endpoint", collector.endpoint, "--propagate-trace",
            "--retry-schedule", "0s,1h", "--breaker-failures", "100",
        ])
        defer { serve.terminate() }

        let producerTrace = "4bf92f3577b34da6a3ce929d0e0e4736", producerSpan = "00f067aa0ba902b7"
        let (status, body) = try await post(
            port, "/v1/events", token: token, body: Self.lostEvent, headers: [("traceparent", "00-\(producerTrace)-\(producerSpan)-01")])
        #expect(status == 202, "\(body)")
        let eventID = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? String)
        try await waitUntil { healthy.requests.count == 1 && failing.requests.count == 1 && moved.requests.count == 1 }
        // A graceful stop sends the last spans.
        serve.terminate()
        await serve.exit()
        await healthy.stop()
        await failing.stop()
        await moved.stop()
        await collector.stop()

        let spans = collector.spans
        #expect(collector.malformed == 0)
        let ingest = try #require(spans.first { $0.name == "POST /v1/events" }, "\(spans)")
        #expect(ingest.traceID == producerTrace && ingest.parentSpanID == producerSpan && ingest.kind == 2, "a child of the producer's span")
        #expect(ingest.attributes["http.response.status_code"] == "202" && ingest.serviceName == "hookline")
        let attempts = spans.filter { $0.name == "webhook.attempt" }
        #expect(attempts.count == 3, "one span per delivery: \(spans.map(\.name))")
        for attempt in attempts {
            #expect(attempt.kind == 3 && attempt.traceID == producerTrace && attempt.parentSpanID == ingest.spanID)
            #expect(attempt.links == [[producerTrace, ingest.spanID]], "linked to the ingest span")
            #expect(attempt.attributes["hookline.event.id"] == eventID && attempt.attributes["hookline.event.type"] == "case.lost")
            #expect(attempt.attributes["hookline.tenant"] == "default" && attempt.attributes["hookline.attempt.number"] == "1")
        }
        let byEndpoint = Dictionary(attempts.map { ($0.attributes["hookline.endpoint.id"] ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(byEndpoint.keys) == [healthyID, failingID, movedID])
        #expect(byEndpoint[healthyID]?.attributes["http.response.status_code"] == "200" && byEndpoint[healthyID]?.statusCode == 0)
        #expect(byEndpoint[failingID]?.attributes["http.response.status_code"] == "503")
        #expect(byEndpoint[failingID]?.attributes["error.type"] == "http_status" && byEndpoint[failingID]?.statusCode == 2)
        #expect(byEndpoint[movedID]?.attributes["error.type"] == "redirect", "the error class the attempt is recorded with")
        // --propagate-trace: each receiver got its attempt's own span as the parent.
        let sent = try #require(healthy.requests.first?.headers["traceparent"])
        #expect(sent == "00-\(producerTrace)-\(byEndpoint[healthyID]?.spanID ?? "")-01")
    }

    @Test func withTheCollectorDownAThousandDeliveriesGoOutAndTheLostSpansAreCounted() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receiver = try await ScriptedReceiver()
        #expect(try await cli.run(["endpoint", "add", receiver.url()]).status == 0)
        let token = "serve-api-token-0123456789"
        let (serve, port) = try await startServe(cli, [
            "--api-token", token, "--allow-private-networks", "--otel-endpoint", "http://127.0.0.1:\(closedPort())",
        ])
        defer { serve.terminate() }
        let items = (0..<1_000).map { _ in Self.lostEvent }.joined(separator: ",")
        let (status, _) = try await post(port, "/v1/events/batch", token: token, body: #"{"events":[\#(items)]}"#)
        #expect(status == 200)
        let deadline = Date().addingTimeInterval(120)
        while receiver.requests.count < 1_000 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(receiver.requests.count == 1_000)
        var dropped = 0
        while dropped == 0 && Date() < deadline {
            let metrics = try await get(port, "/metrics").1
            dropped = metrics.split(separator: "\n").filter { $0.hasPrefix("hookline_trace_spans_dropped_total{") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
            if dropped == 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(dropped > 0, "the spans that could not be sent are counted in /metrics")
        serve.terminate()
        await serve.exit()
        #expect(serve.terminationStatus == 0)
        await receiver.stop()
    }
}
