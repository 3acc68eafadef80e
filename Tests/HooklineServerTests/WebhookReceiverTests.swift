import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklineServer
import Logging
import NIOCore
import Synchronization
import Testing

/// A receiver running on 127.0.0.1 at a free port for the duration of a test.
final class RunningReceiver: Sendable {
    let port: Int
    let task: Task<Void, any Error>
    let recorder = Recorder()

    final class Recorder: Sendable {
        let items = Mutex<[WebhookReceiver.Received]>([])
    }

    init(secret: String, path: String = "/webhooks/churn-saver") async throws {
        let receiver = WebhookReceiver(host: "127.0.0.1", port: 0, path: path, secret: secret)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let recorder = self.recorder
        task = Task {
            var quiet = Logger(label: "test.receive")
            quiet.logLevel = .critical
            try await receiver.run(
                logger: quiet,
                onListening: { continuation.yield($0) },
                onRequest: { received in recorder.items.withLock { $0.append(received) } })
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            throw HooklineError.storage("The receiver did not start.")
        }
        self.port = port
    }

    var requests: [WebhookReceiver.Received] { recorder.items.withLock { $0 } }

    var url: String { "http://127.0.0.1:\(port)/webhooks/churn-saver" }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

@Suite struct WebhookReceiverTests {
    static let secret = "a1b2c3d4e5f6789012345678901234567890123456789012345678901234567890"

    func post(_ url: String, body: [UInt8], headers: [(String, String)]) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = try await response.body.collect(upTo: 1 << 16)
        return (Int(response.status.code), String(buffer: text))
    }

    @Test func answers400WithoutSignature401WithABadOneAnd200WhenValid() async throws {
        let receiver = try await RunningReceiver(secret: Self.secret)
        let body = Array(#"{"event":"case.created","id":"evt_1","timestamp":"2025-10-25T10:30:00Z","data":{}}"#.utf8)
        let signed = WebhookSigner(secret: Self.secret).headers(
            body: body, eventID: "evt_1", eventType: "case.created", attempt: 2, timestamp: 1_761_388_200)

        let missing = try await post(receiver.url, body: body, headers: [("Content-Type", "application/json")])
        #expect(missing.0 == 400)
        #expect(missing.1 == #"{"error":"Missing signature"}"#)

        let forged = try await post(receiver.url, body: body, headers: [("X-Webhook-Signature", String(repeating: "0", count: 64))])
        #expect(forged.0 == 401)
        #expect(forged.1 == #"{"error":"Invalid signature"}"#)

        let wrongSecret = WebhookSigner(secret: Self.secret + "!").headers(
            body: body, eventID: "evt_1", eventType: "case.created", attempt: 1, timestamp: 1_761_388_200)
        #expect(try await post(receiver.url, body: body, headers: wrongSecret).0 == 401)

        let valid = try await post(receiver.url, body: body, headers: signed)
        #expect(valid.0 == 200)
        #expect(valid.1 == #"{"received":true}"#)

        let tampered = try await post(receiver.url, body: body + Array(" ".utf8), headers: signed)
        #expect(tampered.0 == 401)

        await receiver.stop()
        let seen = receiver.requests
        #expect(seen.map(\.statusCode) == [400, 401, 401, 200, 401])
        let good = try #require(seen.first { $0.statusCode == 200 })
        #expect(good.eventType == "case.created")
        #expect(good.eventID == "evt_1")
        #expect(good.attempt == "2")
        #expect(good.standardSignatureValid == true)
        #expect(good.line.contains("case.created  evt_1  attempt 2  valid"))
    }

    @Test func otherPathsAreNotFound() async throws {
        let receiver = try await RunningReceiver(secret: Self.secret)
        let result = try await post("http://127.0.0.1:\(receiver.port)/elsewhere", body: [], headers: [])
        #expect(result.0 == 404)
        await receiver.stop()
        #expect(receiver.requests.isEmpty)
    }
}
