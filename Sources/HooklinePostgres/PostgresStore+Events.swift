import Foundation
import HooklineCore
import NIOCore
import PostgresNIO

extension PostgresStore {
    public func ingest(_ event: Event, audit: AuditEntry?) async throws(HooklineError) -> IngestResult {
        let logger = self.logger
        return try await write { connection in
            var counts = DeliveryCountChanges()
            let result = try await Self.insert(
                event, targets: try await Self.deliveryTargets(tenant: event.tenant, connection, logger), counts: &counts, on: connection, logger)
            try await counts.save(on: connection, logger)
            if let audit, result.wasCreated {
                try await Self.insertAudit(audit, on: connection, logger)
            }
            return result
        }
    }

    public func ingestBatch(_ events: [Event]) async throws(HooklineError) -> [IngestResult] {
        guard !events.isEmpty else { return [] }
        let logger = self.logger
        return try await write { connection in
            // Each tenant's endpoints are read once per transaction.
            var targets: [String: [DeliveryTarget]] = [:]
            var results: [IngestResult] = []
            var counts = DeliveryCountChanges()
            for event in events {
                if targets[event.tenant] == nil { targets[event.tenant] = try await Self.deliveryTargets(tenant: event.tenant, connection, logger) }
                results.append(try await Self.insert(event, targets: targets[event.tenant]!, counts: &counts, on: connection, logger))
            }
            try await counts.save(on: connection, logger)
            return results
        }
    }

    struct DeliveryTarget: Sendable {
        var id: String
        var enabled: Bool
        var eventTypes: EventTypeSelection
    }

    /// The endpoints an event of `tenant` may be delivered to: as many rows as the tenant has endpoints.
    static func deliveryTargets(tenant: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> [DeliveryTarget] {
        try await connection.rows("SELECT id, enabled, event_types FROM endpoint WHERE tenant = \(tenant) ORDER BY id", logger).map {
            DeliveryTarget(id: try $0.get(0), enabled: try $0.get(1), eventTypes: EventTypeSelection(stored: try $0.get(2)))
        }
    }

    /// Stores an event and its deliveries, or returns the stored one with the same id (also when
    /// another node stores the same id at the same moment).
    static func insert(
        _ event: Event, targets: [DeliveryTarget], counts: inout DeliveryCountChanges, on connection: PostgresConnection, _ logger: Logger
    ) async throws -> IngestResult {
        let now = millis(event.createdAt)
        let inserted = try await count(connection, logger, """
            INSERT INTO event (id, type, payload, created_at, tenant, trace_parent)
            VALUES (\(event.id), \(event.type), \(ByteBuffer(bytes: event.payload)), \(now), \(event.tenant), \(event.traceParent))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """)
        guard inserted == 1 else {
            guard let existing = try await fetchEventSummary(event.id, on: connection, logger) else {
                throw HooklineError.storage("The event \(event.id) was being stored by another process; retry.")
            }
            return .existing(existing)
        }
        let chosen = targets.filter { $0.eventTypes.includes(event.type) }
        if !chosen.isEmpty {
            let ids = chosen.map { _ in Identifier.delivery(at: event.createdAt) }
            let endpoints = chosen.map(\.id)
            let statuses = chosen.map { $0.enabled ? DeliveryStatus.pending.rawValue : DeliveryStatus.held.rawValue }
            let due = chosen.map { $0.enabled ? "\(now)" : "" }
            try await connection.run("""
                INSERT INTO delivery (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
                SELECT id, \(event.id), endpoint_id, status, nullif(due, '')::bigint, \(now), \(now)
                FROM unnest(\(ids)::text[], \(endpoints)::text[], \(statuses)::text[], \(due)::text[]) AS t(id, endpoint_id, status, due)
                """, logger)
            for target in chosen { counts.add(target.id, target.enabled ? .pending : .held) }
        }
        return .created(EventSummary(event: event, deliveries: chosen.count))
    }

    static func fetchEventSummary(_ id: String, on connection: PostgresConnection, _ logger: Logger) async throws -> EventSummary? {
        try await connection.rows("SELECT \(unescaped: eventSummaryColumns) FROM event e WHERE e.id = \(id)", logger).first.map(eventSummary)
    }

    public func event(id: String) async throws(HooklineError) -> EventSummary? {
        let logger = self.logger
        return try await read { connection in try await Self.fetchEventSummary(id, on: connection, logger) }
    }

    public func events(_ query: EventQuery) async throws(HooklineError) -> [EventSummary] {
        let logger = self.logger
        return try await read { connection in try await Self.fetchEvents(query, on: connection, logger) }
    }

    static func fetchEvents(_ query: EventQuery, on connection: PostgresConnection, _ logger: Logger) async throws -> [EventSummary] {
        // Each filter is either the value or NULL (no filter).
        try await connection.rows("""
            SELECT \(unescaped: eventSummaryColumns) FROM event e
            WHERE (\(query.type)::text IS NULL OR e.type = \(query.type)) AND (\(query.tenant)::text IS NULL OR e.tenant = \(query.tenant))
              AND e.created_at >= \(query.since.map { millis($0) } ?? Int64.min)
              AND (\(query.before.map { millis($0.createdAt) })::bigint IS NULL
                   OR (e.created_at, e.id) < (\(query.before.map { millis($0.createdAt) }), \(query.before?.id ?? "")))
            ORDER BY e.created_at DESC, e.id DESC LIMIT \(query.limit)
            """, logger).map(eventSummary)
    }

    public func delivery(id: String) async throws(HooklineError) -> Delivery? {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows("SELECT \(unescaped: Self.deliveryColumns) FROM delivery WHERE id = \(id)", logger).first.map { try Self.delivery($0) }
        }
    }

    public func deliveries(_ query: DeliveryQuery) async throws(HooklineError) -> [Delivery] {
        let logger = self.logger
        return try await read { connection in
            // Each filter is either the value or NULL (no filter); newest first is id order (ULIDs).
            try await connection.rows("""
                SELECT \(unescaped: Self.deliveryColumns) FROM delivery
                WHERE (\(query.status?.rawValue)::text IS NULL OR status = \(query.status?.rawValue))
                  AND (\(query.endpointID)::text IS NULL OR endpoint_id = \(query.endpointID))
                  AND (\(query.eventID)::text IS NULL OR event_id = \(query.eventID))
                  AND (\(query.tenant)::text IS NULL OR endpoint_id IN (SELECT id FROM endpoint WHERE tenant = \(query.tenant)))
                  AND id < \(query.before ?? "~")
                ORDER BY id DESC LIMIT \(query.limit)
                """, logger).map { try Self.delivery($0) }
        }
    }

    public func countDeliveries(status: DeliveryStatus, endpointID: String?) async throws(HooklineError) -> Int {
        let logger = self.logger
        return try await read { connection in
            try await Self.keptCounts(endpointID: endpointID, connection, logger)[status.rawValue] ?? 0
        }
    }

    public func attempts(deliveryID: String) async throws(HooklineError) -> [Attempt] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.attemptColumns) FROM attempt WHERE delivery_id = \(deliveryID) ORDER BY number, id", logger
            ).map(Self.attempt)
        }
    }

    public func auditEntries(limit: Int) async throws(HooklineError) -> [AuditEntry] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows(
                "SELECT at, actor, action, target_ids, detail FROM audit ORDER BY at DESC, id DESC LIMIT \(limit)", logger
            ).map(Self.auditEntry)
        }
    }

    public func recordAudit(_ entry: AuditEntry) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in try await Self.insertAudit(entry, on: connection, logger) }
    }
}
