import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklineHTTP
import HooklineServer
@testable import HooklineSQLite
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The ingest API over real HTTP on 127.0.0.1, against a real SQLite file.
final class RunningAPI: Sendable {
    let port: Int
    let store: SQLiteStore
    let directory: String
    let task: Task<Void, any Error>
    let flags: Flags
    let transport: NIOHTTPTransport
    /// The routes the server answers, as Hummingbird lists them (`GET /v1/endpoints/{id}`).
    let routes: [String]

    final class Flags: Sendable {
        let healthy = Mutex(true)
        let wakeups = Atomic<Int>(0)
    }

    init(_ configuration: IngestAPI.Configuration) async throws {
        directory = NSTemporaryDirectory() + "hookline-api-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory + "/h.db")
        let operations = Operations(store: store, actor: .api)
        _ = try await operations.addEndpoint(url: "https://a.example.com/hook")
        _ = try await operations.addEndpoint(url: "https://b.example.com/hook", eventTypes: .only(["case.lost"]))
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let flags = Flags()
        self.flags = flags
        // Test sends go out for real; the documented endpoints are on hosts that do not resolve.
        transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: false), connectTimeout: 3)
        let api = IngestAPI(
            operations: operations, configuration: configuration,
            onAccepted: { flags.wakeups.add(1, ordering: .relaxed) }, dispatcherRunning: { flags.healthy.withLock { $0 } },
            metricsText: { Array("hookline_test_metric 1\n".utf8) }, testTransport: transport)
        var logger = Logger(label: "test.api")
        logger.logLevel = .critical
        let router = api.router()
        routes = router.routes.map { "\($0.method) \($0.path)" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        await transport.shutdown()
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct Answer {
        var status: Int
        var json: JSONValue
        var headers: [String: String]
    }

    func send(_ path: String, get: Bool = false, method: String? = nil, body: String? = nil, token: String? = IngestAPITests.token,
              contentType: String = "application/json", headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method.map { HTTPMethod(rawValue: $0) } ?? (get ? .GET : .POST)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        var headerMap: [String: String] = [:]
        for header in response.headers { headerMap[header.name.lowercased()] = header.value }
        let json = (try? JSONValue.parse(bytes.readableBytesView)) ?? .string(String(buffer: bytes))
        return Answer(status: Int(response.status.code), json: json, headers: headerMap)
    }
}

@Suite struct IngestAPITests {
    static let token = "ingest-token-0123456789abcdef"
    static let risk = #"{"event":"customer.risk_changed","data":{"customer":{"id":"u1"},"risk_change":{"from":"low","to":"high"}}}"#
    static let lost = #"{"event":"case.lost","data":{"case":{"id":"c1"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"x"}}}"#

    @Test func aNewEventIs202WithItsIdAndDeliveries() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        let answer = try await api.send("/v1/events", body: Self.lost)
        #expect(answer.status == 202)
        let id = try #require(answer.json["id"]?.stringValue)
        #expect(id.hasPrefix("evt_"))
        #expect(answer.json["deliveries"] == JSONValue.number(2))
        #expect(try await api.store.event(id: id) != nil)
        #expect(api.flags.wakeups.load(ordering: .relaxed) == 1, "the dispatcher is woken at once")
    }

    @Test func aRepeatedIdIs200WithTheStoredEventThroughTheHeaderOrTheField() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        let first = try await api.send("/v1/events", body: Self.risk, headers: [("Idempotency-Key", "evt_key_1")])
        #expect(first.status == 202)
        #expect(first.json["id"] == JSONValue.string("evt_key_1"))
        let again = try await api.send("/v1/events", body: Self.risk, headers: [("Idempotency-Key", "evt_key_1")])
        #expect(again.status == 200)
        #expect(again.json["created"] == JSONValue.bool(false))
        #expect(again.json["event"]?["id"] == JSONValue.string("evt_key_1"))
        let withField = #"{"event":"customer.risk_changed","id":"evt_field_1","data":{"customer":{"id":"u"},"risk_change":{"from":"a","to":"b"}}}"#
        #expect(try await api.send("/v1/events", body: withField).status == 202)
        let repeated = try await api.send("/v1/events", body: withField)
        #expect(repeated.status == 200)
        #expect(repeated.json["id"] == JSONValue.string("evt_field_1"))
        #expect(try await api.store.events(EventQuery()).count == 2)
        let conflicting = try await api.send("/v1/events", body: withField, headers: [("Idempotency-Key", "evt_other")])
        #expect(conflicting.status == 400)
        #expect(conflicting.json["field"] == JSONValue.string("id"))
    }

    @Test(arguments: [
        (#"{"event":"case.created","data":{"case":{"id":"c"}}}"#, "data.case.user_id"),
        (#"{"data":{}}"#, "event"),
        (#"{"event":"case.exploded","data":{}}"#, "event"),
        (#"{"event":"case.lost"}"#, "data"),
        (#"{"event":"case.lost","data":{},"extra":1}"#, "extra"),
        (#"{"event":"case.lost","data":{},"timestamp":"yesterday"}"#, "timestamp"),
        (#"{"event":"case.lost","data":{},"id":"evt_'; DROP TABLE event"}"#, ""),
        (#"{"event": "#, "body"),
        (#"[1,2]"#, "body"),
        (#"{"event":"case.lost","data":"# + String(repeating: "[", count: 600), "body"),
        ("{\"event\":\"case.lost\",\"data\":{\"a\":\"x\u{0}y\"}}", "body"),
        (#"{"event":"case.lost","data":{"n":1e400}}"#, "body"),
        (#"{"event":"case.created","data":{"case":"x"}}"#, "data.case"),
        (#"{"event":42,"data":{}}"#, "event"),
    ])
    func badEventsAre400NamingTheField(_ body: String, _ field: String) async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        let answer = try await api.send("/v1/events", body: body)
        #expect(answer.status == 400, "\(body)")
        #expect(answer.json["error"]?.stringValue?.isEmpty == false)
        if !field.isEmpty {
            let reported = answer.json["field"]
            #expect(reported == JSONValue.string(field), "field for \(body)")
        }
        #expect(try await api.store.events(EventQuery()).isEmpty)
    }

    @Test func aMissingOrWrongTokenIs401() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        let missing = try await api.send("/v1/events", body: Self.risk, token: nil)
        #expect(missing.status == 401)
        #expect(missing.headers["www-authenticate"] == "Bearer")
        #expect(try await api.send("/v1/events", body: Self.risk, token: Self.token + "x").status == 401)
        #expect(try await api.send("/v1/events", body: Self.risk, token: String(Self.token.dropLast())).status == 401)
        #expect(try await api.send("/v1/events/batch", body: #"{"events":[]}"#, token: "wrong").status == 401)
        #expect(try await api.store.events(EventQuery()).isEmpty)
    }

    @Test func anOversizedBodyIs413AndAnotherContentTypeIs415() async throws {
        let api = try await RunningAPI(.init(token: Self.token, maximumBodyBytes: 4096))
        defer { Task { await api.stop() } }
        let big = #"{"event":"customer.risk_changed","data":{"customer":{"id":"u"},"risk_change":{"from":"a","to":"b","note":"\#(String(repeating: "x", count: 5000))"}}}"#
        #expect(try await api.send("/v1/events", body: big).status == 413)
        #expect(try await api.send("/v1/events", body: Self.risk, contentType: "text/plain").status == 415)
        #expect(try await api.send("/v1/events", body: Self.risk, contentType: "application/json; charset=utf-8").status == 202)
    }

    @Test func anIdempotencyKeyIsAnyStringPerTenantAndARepeatWithOtherDataConflicts() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        _ = try await api.store.createTenant(Tenant(id: "acme", createdAt: Date()), audit: AuditEntry(at: Date(), actor: .cli, action: "tenant.add", targetIDs: ["acme"]))
        let first = try await api.send("/v1/events", body: Self.lost, headers: [("Idempotency-Key", "order-42")])
        #expect(first.status == 202, "\(first.json)")
        let id = try #require(first.json["id"]?.stringValue)
        #expect(id.hasPrefix("evt_"))
        let again = try await api.send("/v1/events", body: Self.lost, headers: [("Idempotency-Key", "order-42")])
        #expect(again.status == 200)
        #expect(again.json["id"] == .string(id))
        #expect(again.json["created"] == .bool(false))
        let other = Self.lost.replacingOccurrences(of: #""reason":"x""#, with: #""reason":"changed""#)
        let conflict = try await api.send("/v1/events", body: other, headers: [("Idempotency-Key", "order-42")])
        #expect(conflict.status == 409, "\(conflict.json)")
        #expect(conflict.json["error"]?.stringValue?.contains("order-42") == true)
        // The same key in another tenant is another event.
        let acme = Self.lost.replacingOccurrences(of: #"{"event":"case.lost","#, with: #"{"event":"case.lost","tenant":"acme","#)
        let theirs = try await api.send("/v1/events", body: acme, headers: [("Idempotency-Key", "order-42")])
        #expect(theirs.status == 202)
        #expect(theirs.json["id"] != .string(id))
        #expect(try await api.send("/v1/events", body: Self.lost, headers: [("Idempotency-Key", String(repeating: "k", count: 256))]).json["field"]
                == .string("Idempotency-Key"))
        #expect(try await api.store.events(EventQuery()).count == 2)

        // An event id taken in another tenant is refused without showing that event.
        let taken = acme.replacingOccurrences(of: #""tenant":"acme","#, with: #""tenant":"acme","id":"\#(id)","#)
        let refused = try await api.send("/v1/events", body: taken)
        #expect(refused.status == 409)
        #expect(refused.json["event"] == nil)
    }

    @Test func inputIsReadTheWayHTTPClientsSendIt() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        // The scheme is case-insensitive (RFC 9110); the token is not.
        #expect(try await api.send("/v1/events", body: Self.risk, token: nil, headers: [("Authorization", "bearer \(Self.token)")]).status == 202)
        #expect(try await api.send("/v1/events", body: Self.risk, token: nil, headers: [("Authorization", "BEARER  \(Self.token)")]).status == 202)
        #expect(try await api.send("/v1/events", body: Self.risk, token: nil, headers: [("Authorization", "Bearer \(Self.token.uppercased())")]).status == 401)
        #expect(try await api.send("/v1/events", body: Self.risk, token: nil, headers: [("Authorization", "Basic \(Self.token)")]).status == 401)
        // The media type is application/json exactly, parameters allowed.
        #expect(try await api.send("/v1/events", body: Self.risk, contentType: "application/jsonx").status == 415)
        #expect(try await api.send("/v1/events", body: Self.risk, contentType: "application/json-seq").status == 415)
        #expect(try await api.send("/v1/events", body: Self.risk, contentType: "Application/JSON;charset=UTF-8").status == 202)
        let stored = try await api.store.events(EventQuery()).count
        #expect(stored == 3)

        // An integer JavaScript cannot hold is refused where it is, not rounded into what is signed.
        let big = #"{"event":"case.lost","data":{"case":{"id":"c1"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"x","amount":9007199254740993}}}"#
        let refused = try await api.send("/v1/events", body: big)
        #expect(refused.status == 400)
        #expect(refused.json["field"] == JSONValue.string("data.loss_details.amount"))
        #expect(refused.json["error"]?.stringValue?.contains("9007199254740993") == true)
        let inBatch = try await api.send("/v1/events/batch", body: #"{"events":[\#(Self.risk),{"event":"case.lost","data":{"ids":[1,-9007199254740993]}}]}"#)
        #expect(inBatch.status == 400)
        #expect(inBatch.json["field"] == JSONValue.string("events[1].data.ids[1]"))
        let exact = big.replacingOccurrences(of: "9007199254740993", with: "9007199254740992")
        #expect(try await api.send("/v1/events", body: exact).status == 202, "2^53 itself is held exactly")

        // An Idempotency-Key on a batch is refused, never silently ignored.
        let batch = #"{"events":[\#(Self.risk)]}"#
        let keyed = try await api.send("/v1/events/batch", body: batch, headers: [("Idempotency-Key", "order-42")])
        #expect(keyed.status == 400)
        #expect(keyed.json["field"] == JSONValue.string("Idempotency-Key"))
        #expect(try await api.store.events(EventQuery()).count == stored + 1, "only the exact event was stored")
    }

    @Test func aRateLimitAnswers429WithRetryAfter() async throws {
        // One event per 100 s: a burst of one, and no refill within the test whatever the machine's speed.
        let api = try await RunningAPI(.init(token: Self.token, rateLimit: 0.01))
        defer { Task { await api.stop() } }
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try await api.send("/v1/events", body: Self.risk).status) }
        #expect(statuses == [202, 429, 429])
        let limited = try await api.send("/v1/events", body: Self.risk)
        #expect(limited.status == 429)
        #expect((Int(limited.headers["retry-after"] ?? "") ?? 0) >= 90, "Retry-After says when a token is back")
        #expect(try await api.store.events(EventQuery()).count == 1)
    }

    @Test func aBatchIsAnsweredPerItemInOneTransaction() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        let body = #"{"events":[\#(Self.lost),{"event":"case.created","data":{}},\#(Self.risk),{"event":"case.lost","id":"evt_b1","data":{"case":{"id":"c"},"loss_details":{"lost_at":"t","reason":"r"}}}]}"#
        let answer = try await api.send("/v1/events/batch", body: body)
        #expect(answer.status == 200)
        guard case .array(let results)? = answer.json["results"] else {
            Issue.record("no results: \(answer.json.canonicalString)")
            return
        }
        #expect(results.map { $0["status"] } == [JSONValue.number(202), .number(400), .number(202), .number(202)])
        #expect(results[1]["field"] == JSONValue.string("events[1].data.case.id"))
        #expect(results[0]["deliveries"] == JSONValue.number(2))
        #expect(results.map { $0["index"] } == [JSONValue.number(0), .number(1), .number(2), .number(3)])
        #expect(try await api.store.events(EventQuery()).count == 3)
        let repeated = try await api.send("/v1/events/batch", body: #"{"events":[{"event":"case.lost","id":"evt_b1","data":{"case":{"id":"c"},"loss_details":{"lost_at":"t","reason":"r"}}}]}"#)
        #expect(repeated.json["results"]?.arrayValue?.first?["status"] == JSONValue.number(200))
        let tooMany = "{\"events\":[" + Array(repeating: Self.risk, count: 1001).joined(separator: ",") + "]}"
        let refused = try await api.send("/v1/events/batch", body: tooMany)
        #expect(refused.status == 400)
        #expect(refused.json["field"] == JSONValue.string("events"))
    }

    @Test func anEventNamesItsTenantAndReachesOnlyItsEndpoints() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        let operations = Operations(store: api.store, actor: .cli)
        _ = try await operations.addTenant(id: "acme")
        let acme = try await operations.addEndpoint(url: "https://acme.example.com/hook", tenant: "acme")
        let lostForAcme = #"{"event":"case.lost","tenant":"acme","data":{"case":{"id":"c1"},"loss_details":{"lost_at":"t","reason":"r"}}}"#
        let answer = try await api.send("/v1/events", body: lostForAcme)
        #expect(answer.status == 202)
        #expect(answer.json["deliveries"] == JSONValue.number(1), "acme's one endpoint, not default's two")
        let id = try #require(answer.json["id"]?.stringValue)
        #expect(try await api.store.deliveries(DeliveryQuery(eventID: id)).map(\.endpointID) == [acme.id])

        let unknown = try await api.send("/v1/events", body: lostForAcme.replacingOccurrences(of: "acme", with: "initech"))
        #expect(unknown.status == 400)
        #expect(unknown.json["field"] == JSONValue.string("tenant"))
        #expect(unknown.json["error"]?.stringValue?.contains("There is no tenant 'initech'") == true)
        let malformed = try await api.send("/v1/events", body: lostForAcme.replacingOccurrences(of: #""acme""#, with: "7"))
        #expect(malformed.status == 400 && malformed.json["field"] == JSONValue.string("tenant"))
        let batch = try await api.send("/v1/events/batch", body: #"{"events":[\#(lostForAcme),\#(lostForAcme.replacingOccurrences(of: "acme", with: "initech"))]}"#)
        #expect(batch.json["results"]?.arrayValue?.map { $0["status"] } == [JSONValue.number(202), .number(400)])
        #expect(batch.json["results"]?.arrayValue?.last?["field"] == JSONValue.string("events[1].tenant"))
        #expect(try await api.store.events(EventQuery(tenant: "acme")).count == 2)
    }

    @Test func healthIs200WhenTheDispatcherRunsAnd503Otherwise() async throws {
        let api = try await RunningAPI(.init(token: Self.token))
        defer { Task { await api.stop() } }
        _ = try await api.send("/v1/events", body: Self.lost)
        let healthy = try await api.send("/v1/health", get: true, token: nil)
        #expect(healthy.status == 200)
        #expect(healthy.json["status"] == JSONValue.string("ok"))
        #expect(healthy.json["pending"] == JSONValue.number(2))
        #expect(healthy.json["open_breakers"] == JSONValue.number(0))
        api.flags.healthy.withLock { $0 = false }
        let unhealthy = try await api.send("/v1/health", get: true, token: nil)
        #expect(unhealthy.status == 503)
        #expect(unhealthy.json["dispatcher"] == JSONValue.string("stopped"))
        let metrics = try await api.send("/metrics", get: true, token: nil)
        #expect(metrics.status == 200)
        #expect(metrics.json.stringValue?.contains("hookline_test_metric 1") == true)
    }
}
