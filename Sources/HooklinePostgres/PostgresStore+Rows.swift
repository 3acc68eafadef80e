import Foundation
import HooklineCore
import NIOCore
import PostgresNIO

/// Row ↔ model mapping, by column position, in the order of each `…Columns` list.
extension PostgresStore {
    static let endpointColumns = """
        id, url, description, secret, enabled, event_types, rate_limit, disabled_reason, disabled_at, created_at, updated_at, \
        previous_secret, previous_secret_until, tenant, headers
        """

    func endpoint(_ row: PostgresRandomAccessRow) throws -> Endpoint {
        let id = try row.get(0, as: String.self)
        return Endpoint(
            id: id, url: try row.get(1), description: try row.get(2), secret: try secrets.unseal(try row.get(3), endpointID: id),
            enabled: try row.get(4), eventTypes: EventTypeSelection(stored: try row.get(5)), rateLimit: try row.get(6),
            disabledReason: try row.get(7), disabledAt: Self.date(try row.get(8, as: Int64?.self)),
            createdAt: Self.date(try row.get(9, as: Int64.self)), updatedAt: Self.date(try row.get(10, as: Int64.self)),
            previousSecret: try (try row.get(11, as: String?.self)).map { try secrets.unseal($0, endpointID: id) },
            previousSecretUntil: Self.date(try row.get(12, as: Int64?.self)),
            tenant: try row.get(13), headers: EndpointHeader.headers(stored: try row.get(14)))
    }

    static let tenantColumns = "id, name, metadata, created_at"

    static func tenant(_ row: PostgresRandomAccessRow) throws -> Tenant {
        Tenant(id: try row.get(0), name: try row.get(1), metadata: Tenant.metadata(stored: try row.get(2)), createdAt: date(try row.get(3, as: Int64.self)))
    }

    static let deliveryColumns =
        "id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at"

    static func delivery(_ row: PostgresRandomAccessRow, from offset: Int = 0) throws -> Delivery {
        Delivery(
            id: try row.get(offset), eventID: try row.get(offset + 1), endpointID: try row.get(offset + 2),
            status: try DeliveryStatus(stored: try row.get(offset + 3)), attempts: try row.get(offset + 4),
            nextAttemptAt: date(try row.get(offset + 5, as: Int64?.self)), leaseUntil: date(try row.get(offset + 6, as: Int64?.self)),
            lastStatusCode: try row.get(offset + 7), lastError: try row.get(offset + 8),
            createdAt: date(try row.get(offset + 9, as: Int64.self)), updatedAt: date(try row.get(offset + 10, as: Int64.self)))
    }

    /// An event with its delivery count, for `FROM event e`.
    static let eventSummaryColumns =
        "e.id, e.type, e.payload, e.created_at, e.tenant, e.redacted_at, (SELECT count(*) FROM delivery d WHERE d.event_id = e.id)"

    static func eventSummary(_ row: PostgresRandomAccessRow) throws -> EventSummary {
        let payload = try row.get(2, as: ByteBuffer.self)
        return EventSummary(
            event: Event(id: try row.get(0), type: try row.get(1), payload: Array(payload.readableBytesView),
                         createdAt: date(try row.get(3, as: Int64.self)), tenant: try row.get(4),
                         redactedAt: date(try row.get(5, as: Int64?.self))),
            deliveries: try row.get(6, as: Int.self))
    }

    static let attemptColumns =
        "delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, error_message, response_excerpt"

    static func attempt(_ row: PostgresRandomAccessRow) throws -> Attempt {
        Attempt(
            deliveryID: try row.get(0), number: try row.get(1), trigger: AttemptTrigger(rawValue: try row.get(2)) ?? .scheduled,
            startedAt: date(try row.get(3, as: Int64.self)), durationMs: try row.get(4), statusCode: try row.get(5),
            errorClass: try row.get(6), errorMessage: try row.get(7), responseExcerpt: try row.get(8))
    }

    static let breakerColumns = """
        endpoint_id, state, consecutive_failures, window_started_at, window_attempts, window_failures, opened_at, \
        next_probe_at, trips, failing_since, updated_at
        """

    static func breaker(_ row: PostgresRandomAccessRow) throws -> CircuitBreaker {
        var breaker = CircuitBreaker(endpointID: try row.get(0))
        breaker.state = BreakerState(rawValue: try row.get(1)) ?? .closed
        breaker.consecutiveFailures = try row.get(2)
        breaker.windowStartedAt = date(try row.get(3, as: Int64?.self))
        breaker.windowAttempts = try row.get(4)
        breaker.windowFailures = try row.get(5)
        breaker.openedAt = date(try row.get(6, as: Int64?.self))
        breaker.nextProbeAt = date(try row.get(7, as: Int64?.self))
        breaker.trips = try row.get(8)
        breaker.failingSince = date(try row.get(9, as: Int64?.self))
        breaker.updatedAt = date(try row.get(10, as: Int64?.self))
        return breaker
    }

    static func saveBreaker(_ b: CircuitBreaker, on connection: PostgresConnection, _ logger: Logger) async throws {
        let updated = millis(b.updatedAt ?? Date())
        try await connection.run("""
            INSERT INTO breaker (endpoint_id, state, consecutive_failures, window_started_at, window_attempts, window_failures,
                                 opened_at, next_probe_at, trips, failing_since, updated_at)
            VALUES (\(b.endpointID), \(b.state.rawValue), \(b.consecutiveFailures), \(millis(b.windowStartedAt)), \(b.windowAttempts),
                    \(b.windowFailures), \(millis(b.openedAt)), \(millis(b.nextProbeAt)), \(b.trips), \(millis(b.failingSince)), \(updated))
            ON CONFLICT (endpoint_id) DO UPDATE SET
                state = excluded.state, consecutive_failures = excluded.consecutive_failures,
                window_started_at = excluded.window_started_at, window_attempts = excluded.window_attempts,
                window_failures = excluded.window_failures, opened_at = excluded.opened_at, next_probe_at = excluded.next_probe_at,
                trips = excluded.trips, failing_since = excluded.failing_since, updated_at = excluded.updated_at
            """, logger)
    }

    static func insertAudit(_ entry: AuditEntry, on connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.run("""
            INSERT INTO audit (at, actor, action, target_ids, detail)
            VALUES (\(millis(entry.at)), \(entry.actor.rawValue), \(entry.action), \(entry.targetIDs.joined(separator: " ")), \(entry.detail))
            """, logger)
    }

    static func auditEntry(_ row: PostgresRandomAccessRow) throws -> AuditEntry {
        AuditEntry(
            at: date(try row.get(0, as: Int64.self)), actor: AuditActor(rawValue: try row.get(1)) ?? .system, action: try row.get(2),
            targetIDs: (try row.get(3, as: String.self)).split(separator: " ").map(String.init), detail: try row.get(4))
    }

    func fetchEndpoint(_ id: String, on connection: PostgresConnection, lock: Bool = false) async throws -> Endpoint? {
        let suffix = lock ? " FOR UPDATE" : ""
        return try await connection.rows(
            "SELECT \(unescaped: Self.endpointColumns) FROM endpoint WHERE id = \(id)\(unescaped: suffix)", logger
        ).first.map(endpoint)
    }

}
