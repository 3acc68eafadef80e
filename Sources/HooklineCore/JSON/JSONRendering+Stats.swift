import Foundation

extension JSONRendering {
    /// `hookline stats --json`: the keys README's "Stats for scripts" section documents.
    public static func stats(_ s: DeliveryStats) -> JSONValue {
        .object(JSONObject([
            ("tenant", optional(s.tenant)),
            ("since", time(s.since)),
            ("until", time(s.until)),
            ("deliveries", deliveryCounts(s.deliveries)),
            ("attempts", attemptFigures(s.attempts)),
            ("breakers", .array(s.breakers.map(breaker))),
            ("oldest_pending", s.oldestPending.map { oldest in
                .object(JSONObject([
                    ("delivery_id", .string(oldest.deliveryID)),
                    ("endpoint_id", .string(oldest.endpointID)),
                    ("created_at", time(oldest.createdAt)),
                    ("age_seconds", .number(max(0, s.until.timeIntervalSince(oldest.createdAt).rounded(.down)))),
                ]))
            } ?? .null),
            ("endpoints", .array(s.endpoints.map { line in
                .object(JSONObject([
                    ("endpoint_id", .string(line.endpointID)),
                    ("url", .string(line.url)),
                    ("breaker", .string(line.breaker?.rawValue ?? "closed")),
                    ("deliveries", deliveryCounts(line.deliveries)),
                    ("attempts", attemptFigures(line.attempts)),
                ]))
            })),
        ]))
    }

    /// Every status, in the order of their life, then the total.
    static func deliveryCounts(_ counts: [DeliveryStatus: Int]) -> JSONValue {
        var object = JSONObject()
        for status in DeliveryStatus.allCases { object[status.rawValue] = .number(Double(counts[status] ?? 0)) }
        object["total"] = .number(Double(counts.values.reduce(0, +)))
        return .object(object)
    }

    static func attemptFigures(_ f: AttemptFigures) -> JSONValue {
        .object(JSONObject([
            ("total", .number(Double(f.attempts))),
            ("succeeded", .number(Double(f.successes))),
            ("success_rate", optional(f.successRate)),
            ("p50_ms", optional(f.latency?.p50)),
            ("p95_ms", optional(f.latency?.p95)),
            ("p99_ms", optional(f.latency?.p99)),
        ]))
    }
}
