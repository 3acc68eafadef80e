import Foundation

/// One test send: the catalog's example of an event type, signed with a fresh event id and posted to
/// an endpoint at once, outside the queue and the breaker.
///
/// Nothing is stored as an event or a delivery, so a test never shows up among the events or the
/// failed deliveries; the attempt itself is kept with the endpoint (trigger `test`).
public struct TestSend: Sendable, Hashable {
    public var endpointID: String
    /// The fresh id the example was sent with (`X-Webhook-Id`).
    public var eventID: String
    public var eventType: String
    public var startedAt: Date
    public var durationMs: Int
    /// The HTTP status, when a response arrived.
    public var statusCode: Int?
    /// The failure's class (`connect`, `dns`, `tls`, `timeout`, `http_status`, …), nil on success.
    public var errorClass: String?
    public var errorMessage: String?
    /// The first 16 KiB of the response body.
    public var responseExcerpt: String?

    public init(
        endpointID: String, eventID: String, eventType: String, startedAt: Date, durationMs: Int, statusCode: Int? = nil,
        errorClass: String? = nil, errorMessage: String? = nil, responseExcerpt: String? = nil
    ) {
        self.endpointID = endpointID
        self.eventID = eventID
        self.eventType = eventType
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.statusCode = statusCode
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.responseExcerpt = responseExcerpt
    }

    /// What started it, as recorded: always ``AttemptTrigger/test``.
    public var trigger: AttemptTrigger { .test }

    /// Whether the receiver answered 2xx.
    public var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }

    /// What an operator should check after a failure, in one sentence; nil on success.
    public var advice: String? {
        guard !succeeded else { return nil }
        switch errorClass.flatMap(AttemptErrorClass.init(rawValue:)) {
        case .dns?:
            return "Check the DNS: the endpoint's host name does not resolve from this machine."
        case .connect?:
            return "Check the connection: is the receiver running and listening on that host and port, and does a firewall let this machine in?"
        case .tls?:
            return "Check TLS: the receiver's certificate must be valid for its host name and signed by a trusted authority."
        case .timeout?:
            return "Check the receiver's speed: it must answer within the time limit; acknowledge first and process later."
        case .reset?, .network?:
            return "Check the receiver's logs: it dropped the connection before answering."
        case .refusedPrivate?:
            return "The address is private: allow private networks if this receiver is meant to be on one."
        case .invalidURL?:
            return "Check the endpoint's URL: it cannot be parsed; add the endpoint again with a full http:// or https:// URL."
        case .redirect?:
            return "Check the endpoint's URL: the receiver redirects, and redirects are not followed; use the final URL."
        case .local?:
            return "Check this machine: Hookline ran out of file descriptors or memory (raise `ulimit -n` for the serve process); the receiver was not reached."
        default:
            break
        }
        switch statusCode {
        case 401?, 403?:
            return "The receiver rejected the signature: check that it verifies X-Webhook-Signature with this endpoint's secret over the raw body."
        case 400?:
            return "The receiver refused the payload: check its logs; it may reject the signature or the event type."
        case 404?, 405?:
            return "Check the endpoint's URL path: the receiver has no POST route there."
        case 410?:
            return "The receiver answered 410 Gone: it no longer wants deliveries; remove the endpoint or fix the receiver."
        case 429?:
            return "The receiver is rate limiting: set a rate limit on the endpoint or raise the receiver's."
        case let code? where code >= 500:
            return "The receiver failed (HTTP \(code)): check its logs."
        default:
            return "Check the receiver's logs."
        }
    }
}
