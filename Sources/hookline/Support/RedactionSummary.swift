import HooklineCore

/// The one-line text report of `event redact` and `tenant erase`.
enum RedactionSummary {
    static func sentence(_ report: RedactionReport, tenant: String? = nil) -> String {
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        var parts = ["Redacted " + count(report.redactedCount, "event", "events") + (tenant.map { " of tenant \($0)" } ?? "")]
        if report.alreadyRedactedCount > 0 { parts.append(count(report.alreadyRedactedCount, "was", "were") + " redacted before") }
        if report.cancelledDeliveries > 0 { parts.append(count(report.cancelledDeliveries, "unsent delivery", "unsent deliveries") + " cancelled") }
        parts.append(count(report.clearedResponses, "response excerpt", "response excerpts") + " cleared")
        return parts.joined(separator: "; ") + "."
    }
}
