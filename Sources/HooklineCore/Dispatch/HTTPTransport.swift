import Foundation

/// One signed POST to make.
public struct OutboundRequest: Sendable {
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The whole request's time limit, from connecting to the end of the response excerpt.
    public var timeout: TimeInterval

    public init(url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: TimeInterval) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What came of one POST: a response, or a failure with its class.
public struct TransportOutcome: Sendable, Hashable {
    public var statusCode: Int?
    /// Response headers that matter to the policy, lowercased: `retry-after`, `location`.
    public var headers: [String: String]
    /// At most the first 16 KiB of the response body.
    public var bodyExcerpt: [UInt8]
    /// Why no response came; nil for a response.
    public var errorClass: AttemptErrorClass?
    public var errorMessage: String?
    public var durationMs: Int

    public init(statusCode: Int? = nil, headers: [String: String] = [:], bodyExcerpt: [UInt8] = [], errorClass: AttemptErrorClass? = nil, errorMessage: String? = nil, durationMs: Int) {
        self.statusCode = statusCode
        self.headers = headers
        self.bodyExcerpt = bodyExcerpt
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.durationMs = durationMs
    }

    /// A failure before any response.
    public static func failure(_ errorClass: AttemptErrorClass, _ message: String, durationMs: Int) -> TransportOutcome {
        TransportOutcome(errorClass: errorClass, errorMessage: message, durationMs: durationMs)
    }
}

/// The seam between the dispatcher and the network: tests inject faults here.
public protocol HTTPTransport: Sendable {
    /// Sends the request; never throws: every failure is an outcome to record.
    func send(_ request: OutboundRequest) async -> TransportOutcome
}

/// The largest part of a response body that is read and kept.
public let responseExcerptLimit = 16 * 1024
