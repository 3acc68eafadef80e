import Foundation

/// Turns a transport outcome into the attempt to record and the facts the retry policy needs.
public enum AttemptClassifier {
    public static func result(
        for delivery: ClaimedDelivery, outcome: TransportOutcome, startedAt: Date, finishedAt: Date,
        random: Double = Double.random(in: 0..<1)
    ) -> AttemptResult {
        var attempt = Attempt(
            deliveryID: delivery.id, number: delivery.attempts + 1, trigger: delivery.manual ? .manual : .scheduled,
            startedAt: startedAt, durationMs: outcome.durationMs, statusCode: outcome.statusCode,
            errorClass: outcome.errorClass?.rawValue, errorMessage: outcome.errorMessage,
            responseExcerpt: outcome.bodyExcerpt.isEmpty ? nil : String(decoding: outcome.bodyExcerpt, as: UTF8.self))
        var retryAfter: TimeInterval?
        var throttled = outcome.errorClass == .timeout
        if let code = outcome.statusCode, !(200..<300).contains(code) {
            let (errorClass, message) = failure(status: code, outcome: outcome)
            (attempt.errorClass, attempt.errorMessage) = (errorClass.rawValue, message)
            if code == 429 || code == 503, let header = outcome.headers["retry-after"] {
                retryAfter = RetryPolicy.retryAfterSeconds(header, now: finishedAt)
                if let retryAfter { attempt.errorMessage! += " (Retry-After \(DurationText.format(retryAfter)))" }
            }
            throttled = throttled || code == 429
        }
        return AttemptResult(delivery: delivery, attempt: attempt, retryAfter: retryAfter, throttled: throttled, random: random)
    }

    /// The error class and sentence of a response that is not 2xx.
    public static func failure(status code: Int, outcome: TransportOutcome) -> (errorClass: AttemptErrorClass, message: String) {
        if (300..<400).contains(code) {
            let target = outcome.headers["location"].map { "to \($0)" } ?? "without a Location"
            return (.redirect, "HTTP \(code) redirect \(target) was not followed; update the endpoint URL")
        }
        return (.httpStatus, "HTTP \(code)")
    }
}
