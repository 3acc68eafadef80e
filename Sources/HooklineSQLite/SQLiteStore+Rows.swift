import Foundation
import GRDB
import HooklineCore

/// Row ↔ model mapping, written out by hand: explicit columns, integer milliseconds for times.
extension SQLiteStore {
    package static let endpointColumns = """
        id, url, description, secret, enabled, event_types, rate_limit, disabled_reason, disabled_at, created_at, updated_at, \
        previous_secret, previous_secret_until, tenant, headers
        """

    /// One `?` per column of ``endpointColumns``.
    package static let endpointPlaceholders = Array(repeating: "?", count: endpointColumns.split(separator: ",").count).joined(separator: ", ")

    /// An endpoint from a row of ``endpointColumns``, its secrets opened with `secrets`. Read by
    /// position: a console frame decodes hundreds of them, and by-name lookups were a tenth of its time.
    static func endpoint(_ row: Row, secrets: SecretBox) throws -> Endpoint {
        let id: String = row[0]
        return Endpoint(
            id: id, url: row[1], description: row[2], secret: try secrets.unseal(row[3], endpointID: id),
            enabled: row[4], eventTypes: EventTypeSelection(stored: row[5]),
            rateLimit: row[6], disabledReason: row[7],
            disabledAt: date(row[8]), createdAt: date(row[9]),
            updatedAt: date(row[10]),
            previousSecret: try (row[11] as String?).map { try secrets.unseal($0, endpointID: id) },
            previousSecretUntil: date(row[12]),
            tenant: row[13], headers: EndpointHeader.headers(stored: row[14]))
    }

    static let tenantColumns = "id, name, metadata, created_at"

    static func tenant(_ row: Row) -> Tenant {
        Tenant(id: row["id"], name: row["name"], metadata: Tenant.metadata(stored: row["metadata"]), createdAt: date(row["created_at"]))
    }

    static let deliveryColumns =
        "id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at"

    static func delivery(_ row: Row) throws -> Delivery {
        try Delivery(
            id: row["id"], eventID: row["event_id"], endpointID: row["endpoint_id"],
            status: DeliveryStatus(stored: row["status"]), attempts: row["attempts"],
            nextAttemptAt: date(row["next_attempt_at"]), leaseUntil: date(row["lease_until"]),
            lastStatusCode: row["last_status_code"], lastError: row["last_error"],
            createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]))
    }

    /// Columns of an event with its delivery count, for `FROM event e`.
    static let eventSummaryColumns =
        "e.id, e.type, e.payload, e.created_at, e.tenant, e.redacted_at, (SELECT count(*) FROM delivery d WHERE d.event_id = e.id) AS deliveries"

    static func eventSummary(_ row: Row) -> EventSummary {
        let payload: Data = row["payload"]
        return EventSummary(
            event: Event(id: row["id"], type: row["type"], payload: [UInt8](payload), createdAt: date(row["created_at"]), tenant: row["tenant"],
                         redactedAt: date(row["redacted_at"] as Int64?)),
            deliveries: row["deliveries"])
    }

    static let attemptColumns =
        "delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, error_message, response_excerpt"

    static func attempt(_ row: Row) -> Attempt {
        Attempt(
            deliveryID: row["delivery_id"], number: row["number"],
            trigger: AttemptTrigger(rawValue: row["trigger"]) ?? .scheduled,
            startedAt: date(row["started_at"]), durationMs: row["duration_ms"], statusCode: row["status_code"],
            errorClass: row["error_class"], errorMessage: row["error_message"],
            responseExcerpt: row["response_excerpt"])
    }

    static func auditEntry(_ row: Row) -> AuditEntry {
        let targets: String = row["target_ids"]
        return AuditEntry(
            at: date(row["at"]), actor: AuditActor(rawValue: row["actor"]) ?? .system, action: row["action"],
            targetIDs: targets.split(separator: " ").map(String.init), detail: row["detail"])
    }

    static func insertAudit(_ entry: AuditEntry, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO audit (at, actor, action, target_ids, detail) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [millis(entry.at), entry.actor.rawValue, entry.action,
                                 entry.targetIDs.joined(separator: " "), entry.detail])
    }

    package static func date(_ millis: Int64) -> Date { Timestamp.date(milliseconds: millis) }
    package static func date(_ millis: Int64?) -> Date? { millis.map(Timestamp.date(milliseconds:)) }
}
