import Foundation
import HooklineCore

/// The `Enter` views: an event with its deliveries, a delivery with its attempts, an endpoint.
public enum DetailViews {
    static func time(_ date: Date?) -> String {
        date.map { Timestamp.iso8601($0) } ?? "-"
    }

    /// A payload as JSON indented for reading, or as it is when it does not parse.
    static func indented(_ payload: [UInt8]) -> String {
        (try? JSONValue.parse(payload).prettyString) ?? String(decoding: payload, as: UTF8.self)
    }

    public static func event(_ detail: EventDetail) -> TextView {
        let event = detail.summary.event
        var lines: [(String, StyleToken)] = [
            ("Event      \(event.id)", .title),
            ("Type       \(event.type)", .text),
            ("Tenant     \(event.tenant)", .text),
            ("Accepted   \(time(event.createdAt))", .text),
            ("Size       \(event.payload.count) bytes", .muted),
        ]
        if let redactedAt = event.redactedAt {
            lines.append(("Redacted   \(time(redactedAt)): its data and responses were erased; it is never sent again", .warn))
        }
        lines += [
            ("", .text),
            (event.redactedAt == nil ? "Payload (as sent, shown indented)" : "Payload (what is left of it)", .muted),
        ]
        let pretty = indented(event.payload)
        lines += pretty.split(separator: "\n", omittingEmptySubsequences: false).map { (String($0), StyleToken.text) }
        lines += [("", .text), ("Deliveries (\(detail.deliveries.count))", .muted)]
        for d in detail.deliveries {
            lines.append(("\(d.id)  \(d.endpointID)  \(d.status.rawValue)  attempts \(d.attempts)  next \(time(d.nextAttemptAt))  \(d.lastError ?? "")", style(d.status)))
        }
        return TextView(title: "Event \(event.id)", lines: lines)
    }

    public static func delivery(_ detail: DeliveryDetail) -> TextView {
        let d = detail.delivery
        var lines: [(String, StyleToken)] = [
            ("Delivery   \(d.id)", .title),
            ("Status     \(d.status.rawValue)", style(d.status)),
            ("Event      \(d.eventID) (\(detail.event.type))", .text),
            ("Endpoint   \(d.endpointID)  \(detail.endpoint?.url ?? "(removed)")", .text),
            ("Tenant     \(detail.event.tenant)", .text),
            ("Attempts   \(d.attempts)", .text),
            ("Next       \(d.status == .pending ? time(d.nextAttemptAt) : "-")", .text),
            ("", .text),
        ]
        if detail.event.redactedAt != nil {
            lines.append(("The event was redacted: its data, and so the headers signed over it, are gone.", .warn))
            lines.append(("", .text))
        } else if let endpoint = detail.endpoint {
            let number = d.attempts + (d.status == .pending ? 1 : 0)
            let at = detail.attempts.last?.startedAt ?? d.createdAt
            lines.append(("Headers as sent with attempt \(max(1, number)) (the secret itself is never sent nor shown)", .muted))
            let headers = endpoint.signer(at: at).headers(
                body: detail.event.payload, eventID: d.eventID, eventType: detail.event.type, attempt: max(1, number),
                timestamp: Int64(at.timeIntervalSince1970))
            for header in headers { lines.append(("  \(header.name): \(header.value)", .text)) }
            // The endpoint's own headers follow Hookline's; credential-like values stay masked.
            for header in endpoint.headers { lines.append(("  \(header.name): \(header.displayValue)   (custom)", .text)) }
            lines.append(("", .text))
        }
        lines.append(("Attempts", .muted))
        if detail.attempts.isEmpty { lines.append(("  none yet", .muted)) }
        for a in detail.attempts {
            let status = a.statusCode.map(String.init) ?? "-"
            let error = [a.errorClass, a.errorMessage].compactMap { $0 }.joined(separator: ": ")
            lines.append(("  #\(a.number) \(a.trigger.rawValue)  \(time(a.startedAt))  \(a.durationMs) ms  status \(status)  \(error)", a.succeeded ? .ok : .error))
            if let excerpt = a.responseExcerpt, !excerpt.isEmpty {
                lines.append(("      response: " + excerpt.prefix(300).replacingOccurrences(of: "\n", with: " "), .muted))
            }
        }
        return TextView(title: "Delivery \(d.id)", lines: lines)
    }

    public static func endpoint(_ detail: EndpointDetail) -> TextView {
        let e = detail.overview.endpoint
        let b = detail.overview.breaker
        let s = detail.overview.stats
        var lines: [(String, StyleToken)] = [
            ("Endpoint   \(e.id)", .title),
            ("URL        \(e.url)", .text),
            ("Name       \(Panes.name(of: e))", .text),
            ("State      \(e.enabled ? "enabled" : "disabled")\(e.disabledReason.map { ": \($0)" } ?? "")", e.enabled ? .ok : .warn),
            ("Events     \(e.eventTypes.storedValue)", .text),
            ("Rate limit \(e.rateLimit.map { "\($0)/s" } ?? "none")", .text),
            ("Secret     \(e.maskedSecret)", .muted),
            ("Last hour  \(s.attempts) attempts, \(s.successRate.map(Panes.percent) ?? "-") ok, p95 \(s.p95LatencyMs.map { "\($0) ms" } ?? "-")", .text),
            ("", .text),
            ("Breaker    \(Panes.breakerLabel(b.state)), \(b.consecutiveFailures) consecutive failures, \(b.trips) trips", Panes.breakerStyle(b.state)),
            ("           opened \(time(b.openedAt)), next probe \(time(b.nextProbeAt)), failing since \(time(b.failingSince))", .muted),
            ("", .text),
            ("History", .muted),
        ]
        if detail.history.isEmpty { lines.append(("  nothing recorded", .muted)) }
        for entry in detail.history {
            lines.append(("  \(time(entry.at))  \(entry.actor.rawValue)  \(entry.action)  \(entry.detail)", .text))
        }
        lines += [("", .text), ("Test sends (T sends one)", .muted)]
        if detail.testSends.isEmpty { lines.append(("  none", .muted)) }
        for t in detail.testSends {
            let result = t.succeeded ? "HTTP \(t.statusCode ?? 0)" : [t.errorClass, t.errorMessage].compactMap { $0 }.joined(separator: ": ")
            lines.append(("  \(time(t.startedAt))  test \(t.eventType) \(t.eventID)  \(t.durationMs) ms  \(result)", t.succeeded ? .ok : .error))
        }
        lines += [("", .text), ("Recent attempts", .muted)]
        if detail.recentAttempts.isEmpty { lines.append(("  none", .muted)) }
        for a in detail.recentAttempts {
            let error = [a.errorClass, a.errorMessage].compactMap { $0 }.joined(separator: ": ")
            lines.append(("  \(time(a.startedAt))  \(a.deliveryID) #\(a.number)  \(a.statusCode.map(String.init) ?? "-")  \(a.durationMs) ms  \(error)", a.succeeded ? .ok : .error))
        }
        return TextView(title: "Endpoint \(Panes.name(of: e))", lines: lines)
    }

    static func style(_ status: DeliveryStatus) -> StyleToken {
        switch status {
        case .succeeded: return .ok
        case .failed: return .error
        case .held: return .warn
        case .pending, .sending: return .text
        }
    }
}
