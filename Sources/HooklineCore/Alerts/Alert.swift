import Foundation

/// One message to the alert URL: a `text` a person reads (Slack shows it as is) and the same facts
/// as fields a program reads.
public struct Alert: Sendable, Hashable {
    /// `breaker_opened`, `breaker_closed`, `endpoint_disabled`, `deliveries_failed`.
    public var kind: String
    public var text: String
    public var endpoint: EndpointRef
    public var at: Date
    /// The kind's own fields, in order.
    public var fields: [(String, JSONValue)]

    public init(kind: String, text: String, endpoint: EndpointRef, at: Date, fields: [(String, JSONValue)] = []) {
        self.kind = kind
        self.text = text
        self.endpoint = endpoint
        self.at = at
        self.fields = fields
    }

    public static func == (a: Alert, b: Alert) -> Bool { a.body == b.body }
    public func hash(into hasher: inout Hasher) { hasher.combine(body) }

    /// The JSON posted: `{"text": …, "kind": …, "endpoint_id": …, "endpoint_url": …, "at": …, …}`.
    public var body: [UInt8] {
        JSONValue.object(JSONObject([
            ("text", .string(text)),
            ("kind", .string(kind)),
            ("endpoint_id", .string(endpoint.id)),
            ("endpoint_url", .string(endpoint.url)),
            ("at", .string(Timestamp.iso8601(at))),
        ] + fields)).canonicalBytes
    }

    /// The alert for one notice (permanent failures are grouped by ``AlertNotifier`` instead).
    static func from(_ notice: DispatchNotice, at: Date) -> Alert {
        switch notice {
        case .breakerOpened(let endpoint, let reopened, let failures, let nextProbeAt, let lastError):
            var text = "Hookline: breaker \(reopened ? "re-opened" : "opened") for \(endpoint.label) \(endpoint.url)"
            text += " after \(failures) consecutive failures"
            if let lastError { text += " (last: \(lastError))" }
            text += "; its deliveries wait"
            if let nextProbeAt { text += " until a probe at \(Timestamp.iso8601(nextProbeAt))" }
            text += "."
            return Alert(kind: "breaker_opened", text: text, endpoint: endpoint, at: at, fields: [
                ("reopened", .bool(reopened)),
                ("consecutive_failures", .number(Double(failures))),
                ("next_probe_at", nextProbeAt.map { .string(Timestamp.iso8601($0)) } ?? .null),
                ("last_error", lastError.map(JSONValue.string) ?? .null),
            ])
        case .breakerClosed(let endpoint, let byOperator):
            let how = byOperator ? "reset by an operator" : "a probe succeeded"
            return Alert(
                kind: "breaker_closed", text: "Hookline: breaker closed for \(endpoint.label) \(endpoint.url) (\(how)); deliveries flow again.",
                endpoint: endpoint, at: at, fields: [("by_operator", .bool(byOperator))])
        case .endpointDisabled(let endpoint, let reason):
            return Alert(
                kind: "endpoint_disabled",
                text: "Hookline: endpoint \(endpoint.label) \(endpoint.url) was disabled: \(reason). Its deliveries are held until it is enabled again.",
                endpoint: endpoint, at: at, fields: [("reason", .string(reason))])
        case .deliveryFailed(let endpoint, let deliveryID, let eventID, let attempts, let lastError):
            return failures(endpoint: endpoint, deliveryIDs: [deliveryID], eventIDs: [eventID], count: 1, attempts: attempts, lastError: lastError, at: at)
        }
    }

    /// The grouped alert for deliveries of one endpoint that failed for good.
    static func failures(
        endpoint: EndpointRef, deliveryIDs: [String], eventIDs: [String], count: Int, attempts: Int, lastError: String?, at: Date
    ) -> Alert {
        var text = count == 1
            ? "Hookline: a delivery to \(endpoint.label) \(endpoint.url) failed for good after \(attempts) attempts"
            : "Hookline: \(count) deliveries to \(endpoint.label) \(endpoint.url) failed for good"
        if let lastError { text += " (last error: \(lastError))" }
        text += ". Redeliver with `hookline redeliver --endpoint \(endpoint.id) --failed` once the receiver is fixed."
        return Alert(kind: "deliveries_failed", text: text, endpoint: endpoint, at: at, fields: [
            ("failed_deliveries", .number(Double(count))),
            ("delivery_ids", .array(deliveryIDs.map(JSONValue.string))),
            ("event_ids", .array(eventIDs.map(JSONValue.string))),
            ("last_error", lastError.map(JSONValue.string) ?? .null),
        ])
    }
}
