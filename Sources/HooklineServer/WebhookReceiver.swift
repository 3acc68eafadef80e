import Foundation
import HooklineCore
import Hummingbird
import Logging
import NIOCore

/// A development receiver that checks signatures the way the guide's handlers do.
///
/// `POST` on the configured path: no `X-Webhook-Signature` → `400 {"error":"Missing signature"}`;
/// a signature that does not match the body → `401 {"error":"Invalid signature"}`; otherwise
/// `200 {"received":true}`. The body is checked as received, byte for byte.
public struct WebhookReceiver: Sendable {
    /// What the receiver made of one request.
    public enum Verdict: String, Sendable {
        case valid
        case missingSignature = "missing signature"
        case invalidSignature = "invalid signature"
    }

    /// One request, as the receiver saw it.
    public struct Received: Sendable {
        public var at: Date
        public var eventType: String?
        public var eventID: String?
        public var attempt: String?
        public var verdict: Verdict
        /// The Standard Webhooks signature's verdict, when that header was sent.
        public var standardSignatureValid: Bool?
        public var statusCode: Int
        public var body: [UInt8]
        public var headers: [String: String]

        /// One line for a terminal: time, event type, id, attempt, verdict.
        public var line: String {
            var text = "\(Timestamp.iso8601(at))  \(statusCode)  \(eventType ?? "-")  \(eventID ?? "-")  attempt \(attempt ?? "-")  \(verdict.rawValue)"
            if let standard = standardSignatureValid {
                text += standard ? " (webhook-signature valid)" : " (webhook-signature INVALID)"
            }
            return text
        }
    }

    /// How a receiver misbehaves on purpose (for the demo): latency and failures after a valid signature.
    public struct Behaviour: Sendable {
        /// Milliseconds to wait before answering, picked uniformly in this range.
        public var latencyMs: ClosedRange<Int>
        /// The share of valid requests answered with `failureStatus` instead of 200.
        public var failureRate: Double
        public var failureStatus: Int
        /// Headers sent with a simulated failure, such as `Retry-After`.
        public var failureHeaders: [String: String]

        public init(latencyMs: ClosedRange<Int> = 0...0, failureRate: Double = 0, failureStatus: Int = 500, failureHeaders: [String: String] = [:]) {
            self.latencyMs = latencyMs
            self.failureRate = failureRate
            self.failureStatus = failureStatus
            self.failureHeaders = failureHeaders
        }

        /// Answers every valid request at once with 200.
        public static let healthy = Behaviour()
    }

    public var host: String
    public var port: Int
    public var path: String
    public var secret: String
    /// The largest body accepted.
    public var maximumBodyBytes: Int
    public var behaviour: Behaviour

    public init(
        host: String = "127.0.0.1", port: Int = 3000, path: String = "/webhooks/churn-saver", secret: String,
        maximumBodyBytes: Int = 1 << 20, behaviour: Behaviour = .healthy
    ) {
        self.host = host
        self.port = port
        self.path = path
        self.secret = secret
        self.maximumBodyBytes = maximumBodyBytes
        self.behaviour = behaviour
    }

    /// Judges one request: pure, so that tests and the server share it.
    public func judge(headers: [String: String], body: [UInt8], at: Date = Date()) -> Received {
        let verifier = SignatureVerifier(secret: secret)
        let verdict: Verdict
        if let signature = headers["x-webhook-signature"], !signature.isEmpty {
            verdict = verifier.isValid(signatureHex: signature, body: body) ? .valid : .invalidSignature
        } else {
            verdict = .missingSignature
        }
        var standard: Bool?
        if let header = headers["webhook-signature"], let id = headers["webhook-id"],
           let timestamp = headers["webhook-timestamp"].flatMap(Int64.init) {
            standard = verifier.isValidStandard(signatureHeader: header, eventID: id, timestamp: timestamp, body: body)
        }
        let status = verdict == .valid ? 200 : (verdict == .missingSignature ? 400 : 401)
        return Received(
            at: at, eventType: headers["x-webhook-event"], eventID: headers["x-webhook-id"],
            attempt: headers["x-webhook-attempt"], verdict: verdict, standardSignatureValid: standard,
            statusCode: status, body: body, headers: headers)
    }

    /// Runs until the task is cancelled or the process gets SIGINT/SIGTERM.
    ///
    /// `onListening` gets the bound port (useful with port 0); `onRequest` gets every judged request.
    public func run(
        logger: Logger = Logger(label: "hookline.receive"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onRequest: @escaping @Sendable (Received) async -> Void = { _ in }
    ) async throws {
        let router = Router()
        let receiver = self
        router.post(RouterPath(path)) { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: receiver.maximumBodyBytes)
            var headers: [String: String] = [:]
            for field in request.headers {
                headers[field.name.canonicalName] = field.value
            }
            var received = receiver.judge(headers: headers, body: Array(buffer: buffer))
            let behaviour = receiver.behaviour
            if behaviour.latencyMs.upperBound > 0 {
                try await Task.sleep(for: .milliseconds(Int.random(in: behaviour.latencyMs)))
            }
            if received.verdict == .valid, behaviour.failureRate > 0, Double.random(in: 0..<1) < behaviour.failureRate {
                received.statusCode = behaviour.failureStatus
            }
            await onRequest(received)
            let json: String
            switch received.verdict {
            case .valid where received.statusCode != 200: json = #"{"error":"Simulated failure"}"#
            case .valid: json = #"{"received":true}"#
            case .missingSignature: json = #"{"error":"Missing signature"}"#
            case .invalidSignature: json = #"{"error":"Invalid signature"}"#
            }
            var responseHeaders: HTTPFields = [.contentType: "application/json"]
            if received.verdict == .valid && received.statusCode != 200 {
                for (name, value) in behaviour.failureHeaders {
                    if let field = HTTPFields.Element.Name(name) { responseHeaders[field] = value }
                }
            }
            return Response(
                status: .init(code: received.statusCode), headers: responseHeaders,
                body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "hookline-receive"),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        do {
            try await app.runService()
        } catch let error as IOError {
            throw HooklineError.invalidInput(
                "The receiver cannot listen on \(host):\(port) (\(String(cString: strerror(error.errnoCode)))); pick another --port or --host.")
        }
    }
}
