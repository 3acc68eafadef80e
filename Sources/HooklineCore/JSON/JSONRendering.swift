import Foundation

/// The JSON shapes of Hookline's records, shared by the CLI's `--json` listings and the management
/// API: snake_case keys, times in ISO 8601, ids as strings. Scripts and dashboards depend on them.
public enum JSONRendering {
    public static func time(_ date: Date?) -> JSONValue {
        date.map { .string(Timestamp.iso8601($0)) } ?? .null
    }

    public static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    public static func optional(_ number: Int?) -> JSONValue { number.map { .number(Double($0)) } ?? .null }
    public static func optional(_ number: Double?) -> JSONValue { number.map(JSONValue.number) ?? .null }

    /// An endpoint; `secret` holds the full secret only when `revealSecret`, else it is left out.
    public static func endpoint(_ e: Endpoint, revealSecret: Bool) -> JSONValue {
        var object = JSONObject([
            ("id", .string(e.id)),
            ("tenant", .string(e.tenant)),
            ("url", .string(e.url)),
            ("description", .string(e.description)),
            ("enabled", .bool(e.enabled)),
            ("events", .array(e.eventTypes.list.map(JSONValue.string))),
            ("rate_limit", optional(e.rateLimit)),
            ("disabled_reason", optional(e.disabledReason)),
            ("disabled_at", time(e.disabledAt)),
            ("created_at", time(e.createdAt)),
            ("updated_at", time(e.updatedAt)),
            ("headers", headers(e.headers, reveal: revealSecret)),
        ])
        if revealSecret {
            object["secret"] = .string(e.secret)
        } else {
            object["secret_hint"] = .string(e.maskedSecret)
        }
        if let previous = e.previousSecret, let until = e.previousSecretUntil {
            // The replaced secret is never printed in full: the receiver already has it.
            object["previous_secret_hint"] = .string(Secret.mask(previous))
            object["previous_secret_until"] = time(until)
        }
        return .object(object)
    }

    /// Custom headers, name → value; values of credential-like headers are masked unless revealed.
    public static func headers(_ headers: [EndpointHeader], reveal: Bool) -> JSONValue {
        var object = JSONObject()
        for header in headers { object[header.name] = JSONValue.string(reveal ? header.value : header.displayValue) }
        return .object(object)
    }

    public static func tenant(_ t: Tenant) -> JSONValue {
        .object(JSONObject([
            ("id", .string(t.id)),
            ("name", .string(t.name)),
            ("metadata", .object(Tenant.object(metadata: t.metadata))),
            ("created_at", time(t.createdAt)),
        ]))
    }

    /// A tenant token's record; its value is never part of it.
    public static func token(_ t: APIToken) -> JSONValue {
        .object(JSONObject([
            ("id", .string(t.id)),
            ("tenant", .string(t.tenant)),
            ("created_at", time(t.createdAt)),
            ("revoked_at", time(t.revokedAt)),
        ]))
    }

    public static func breaker(_ b: CircuitBreaker) -> JSONValue {
        .object(JSONObject([
            ("endpoint_id", .string(b.endpointID)),
            ("state", .string(b.state.rawValue)),
            ("consecutive_failures", .number(Double(b.consecutiveFailures))),
            ("opened_at", time(b.openedAt)),
            ("next_probe_at", time(b.nextProbeAt)),
            ("trips", .number(Double(b.trips))),
            ("failing_since", time(b.failingSince)),
        ]))
    }

    /// An endpoint with its breaker state and last hour's success rate and p95 latency.
    public static func overview(_ o: EndpointOverview, revealSecret: Bool) -> JSONValue {
        guard case .object(var object) = endpoint(o.endpoint, revealSecret: revealSecret) else { return .null }
        object["breaker"] = .string(o.breaker.state.rawValue)
        object["success_rate"] = optional(o.stats.successRate)
        object["attempts_last_hour"] = .number(Double(o.stats.attempts))
        object["p95_latency_ms"] = optional(o.stats.p95LatencyMs)
        return .object(object)
    }

    /// A delivery; `tenant` (its endpoint's) is added when given, as the management API shows it.
    public static func delivery(_ d: Delivery, tenant: String? = nil) -> JSONValue {
        var object = JSONObject([
            ("id", .string(d.id)),
            ("event_id", .string(d.eventID)),
            ("endpoint_id", .string(d.endpointID)),
            ("status", .string(d.status.rawValue)),
            ("attempts", .number(Double(d.attempts))),
            ("next_attempt_at", time(d.nextAttemptAt)),
            ("last_status_code", optional(d.lastStatusCode)),
            ("last_error", optional(d.lastError)),
            ("created_at", time(d.createdAt)),
            ("updated_at", time(d.updatedAt)),
        ])
        if let tenant { object["tenant"] = .string(tenant) }
        return .object(object)
    }

    public static func event(_ s: EventSummary) -> JSONValue {
        .object(JSONObject([
            ("id", .string(s.event.id)),
            ("tenant", .string(s.event.tenant)),
            ("type", .string(s.event.type)),
            ("created_at", time(s.event.createdAt)),
            ("deliveries", .number(Double(s.deliveries))),
            ("redacted_at", s.event.redactedAt.map(time) ?? .null),
        ]))
    }

    /// What `event redact` and `tenant erase` did: `redacted` lists the ids for named events.
    public static func redaction(_ r: RedactionReport, tenant: String?) -> JSONValue {
        var fields: [(String, JSONValue)] = []
        if let tenant { fields.append(("tenant", .string(tenant))) } else { fields.append(("redacted", .array(r.redacted.map(JSONValue.string)))) }
        fields += [
            ("redacted_count", .number(Double(r.redactedCount))),
            ("already_redacted", .number(Double(r.alreadyRedactedCount))),
            ("cancelled_deliveries", .number(Double(r.cancelledDeliveries))),
            ("cleared_responses", .number(Double(r.clearedResponses))),
        ]
        return .object(JSONObject(fields))
    }

    public static func attempt(_ a: Attempt) -> JSONValue {
        .object(JSONObject([
            ("delivery_id", .string(a.deliveryID)),
            ("number", .number(Double(a.number))),
            ("trigger", .string(a.trigger.rawValue)),
            ("started_at", time(a.startedAt)),
            ("duration_ms", .number(Double(a.durationMs))),
            ("status_code", optional(a.statusCode)),
            ("error_class", optional(a.errorClass)),
            ("error_message", optional(a.errorMessage)),
            ("response_excerpt", optional(a.responseExcerpt)),
        ]))
    }

    public static func testSend(_ t: TestSend) -> JSONValue {
        .object(JSONObject([
            ("endpoint_id", .string(t.endpointID)),
            ("event_id", .string(t.eventID)),
            ("event_type", .string(t.eventType)),
            ("trigger", .string(t.trigger.rawValue)),
            ("succeeded", .bool(t.succeeded)),
            ("started_at", time(t.startedAt)),
            ("duration_ms", .number(Double(t.durationMs))),
            ("status_code", optional(t.statusCode)),
            ("error_class", optional(t.errorClass)),
            ("error_message", optional(t.errorMessage)),
            ("response_excerpt", optional(t.responseExcerpt)),
            ("advice", optional(t.advice)),
        ]))
    }

    /// A catalog entry: its name, summary, required `data` fields and example data.
    public static func eventType(_ type: EventType) -> JSONValue {
        .object(JSONObject([
            ("type", .string(type.name)),
            ("summary", .string(type.summary)),
            ("required_fields", .array(type.requiredFields.map { .string("data." + $0.path) })),
            ("example", (try? JSONValue.parse(type.exampleData)) ?? .null),
        ]))
    }

    /// A redelivery's outcome: the deliveries made due, and those skipped with the reason.
    public static func redelivery(_ result: RedeliveryResult) -> JSONValue {
        .object(JSONObject([
            ("requeued", .array(result.requeued.map(JSONValue.string))),
            ("skipped", .array(result.skipped.map { .object(JSONObject([("id", .string($0.id)), ("reason", .string($0.reason))])) })),
        ]))
    }

    public static func prune(_ report: PruneReport) -> JSONValue {
        .object(JSONObject([
            ("dry_run", .bool(report.dryRun)),
            ("cutoff", time(report.rule.cutoff)),
            ("include_failed", .bool(report.rule.includeFailed)),
            ("events", .number(Double(report.counts.events))),
            ("deliveries", .number(Double(report.counts.deliveries))),
            ("attempts", .number(Double(report.counts.attempts))),
            ("test_sends", .number(Double(report.counts.testSends))),
            ("kept_events", .number(Double(report.counts.keptEvents))),
            ("freed_bytes", report.freedBytes.map { .number(Double($0)) } ?? .null),
            ("steps", .number(Double(report.steps))),
            ("longest_step_ms", .number(report.longestStep.milliseconds.rounded())),
        ]))
    }

    /// `hookline backup --json`: where the copy and its key went, its size, and what `--verify` found.
    public static func backup(_ report: BackupReport) -> JSONValue {
        let key: JSONValue
        switch report.key {
        case .copied(let path): key = .object(JSONObject([("file", .string(path)), ("environment", .null)]))
        case .environment(let variable): key = .object(JSONObject([("file", .null), ("environment", .string(variable))]))
        }
        return .object(JSONObject([
            ("path", .string(report.path)),
            ("bytes", .number(Double(report.bytes))),
            ("seconds", .number((report.seconds * 1000).rounded() / 1000)),
            ("key", key),
            ("verification", report.verification.map {
                .object(JSONObject([
                    ("integrity", .string($0.integrity)), ("events", .number(Double($0.events))), ("deliveries", .number(Double($0.deliveries))),
                ]))
            } ?? .null),
        ]))
    }
}
