import Foundation
import HooklineCore
import Testing

/// The guide's own Node.js verifier, run by node: it re-serialises the parsed body with
/// JSON.stringify before checking the signature, so only canonical bytes pass.
@Suite struct GuideReceiverTests {
    static let nodePath: String? = {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/node"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static let script = """
        const http = require('http'), crypto = require('crypto');
        const secret = process.argv[1];
        const server = http.createServer((req, res) => {
          let body = ''; req.setEncoding('utf8');
          req.on('data', c => body += c);
          req.on('end', () => {
            const signature = req.headers['x-webhook-signature'];
            if (!signature) { res.writeHead(400); return res.end('{"error":"Missing signature"}'); }
            const payload = JSON.stringify(JSON.parse(body));
            const expected = crypto.createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
            const ok = crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
            res.writeHead(ok ? 200 : 401, {'content-type': 'application/json'});
            res.end(ok ? '{"received":true}' : '{"error":"Invalid signature"}');
          });
        });
        server.listen(0, '127.0.0.1', () => console.log(server.address().port));
        """

    @Test(.enabled(if: nodePath != nil)) func theGuidesNodeVerifierAcceptsEveryDelivery() async throws {
        let secret = "guide-node-secret-0123456789abcdef"
        let node = Process()
        node.executableURL = URL(fileURLWithPath: Self.nodePath!)
        node.arguments = ["-e", Self.script, secret]
        let output = Pipe()
        node.standardOutput = output
        try node.run()
        defer { node.terminate(); node.waitUntilExit() }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))

        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.addEndpoint("http://127.0.0.1:\(port)/webhooks/churn-saver", secret: secret)
        let tricky = [
            #"{"case":{"id":"case_1","user_id":"u/1","status":"active","risk_level":"high","trigger_event":{"type":"payment_failed","amount":29.990,"big":1e21,"tiny":0.0000001},"customer":{"id":"u/1","email":"zoë@example.com","name":"José 🚀 \u00e9\n\t\"q\"","lifetime_value":1250.00,"2":"integer key","1":"first"}}}"#,
            EventCatalog.type(named: "case.created")!.exampleData,
        ]
        for data in tricky {
            _ = try await fixture.operations.emit(type: "case.created", dataJSON: Array(data.utf8))
        }
        try await fixture.drain(DispatchFixture.configuration(schedule: [0]))
        let deliveries = try await fixture.deliveries(endpoint)
        #expect(deliveries.count == tricky.count)
        #expect(deliveries.allSatisfy { $0.status == .succeeded }, "\(deliveries.map { "\($0.status) \($0.lastStatusCode ?? 0)" })")
    }
}
