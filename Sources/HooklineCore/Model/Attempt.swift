import Foundation

/// What started an attempt.
public enum AttemptTrigger: String, Sendable, Hashable, CaseIterable {
    /// The dispatcher, on the retry schedule.
    case scheduled
    /// An operator's redelivery.
    case manual
    /// An operator's test send, outside the queue.
    case test
}

/// One HTTP request made for a delivery, and what came of it.
public struct Attempt: Sendable, Hashable {
    public var deliveryID: String
    /// 1-based, as sent in `X-Webhook-Attempt`.
    public var number: Int
    public var trigger: AttemptTrigger
    public var startedAt: Date
    /// Milliseconds from the start of the request to its end or failure.
    public var durationMs: Int
    /// The HTTP status, when a response arrived.
    public var statusCode: Int?
    /// A short machine-readable class (`http_status`, `timeout`, `connect`, `refused_private`, …).
    public var errorClass: String?
    /// One human sentence about the failure.
    public var errorMessage: String?
    /// The first 16 KiB of the response body.
    public var responseExcerpt: String?

    public init(
        deliveryID: String, number: Int, trigger: AttemptTrigger, startedAt: Date, durationMs: Int,
        statusCode: Int? = nil, errorClass: String? = nil, errorMessage: String? = nil,
        responseExcerpt: String? = nil
    ) {
        self.deliveryID = deliveryID
        self.number = number
        self.trigger = trigger
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.statusCode = statusCode
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.responseExcerpt = responseExcerpt
    }

    /// Whether the attempt got a 2xx.
    public var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
}
