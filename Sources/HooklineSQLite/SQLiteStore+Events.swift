import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func ingest(_ event: Event, audit: AuditEntry?) async throws(HooklineError) -> IngestResult {
        try await write { db in
            var counts = DeliveryCountChanges()
            let result = try Self.insert(event, targets: Self.deliveryTargets(db, tenant: event.tenant), counts: &counts, in: db)
            try counts.save(in: db)
            if let audit, result.wasCreated {
                try Self.insertAudit(audit, in: db)
            }
            return result
        }
    }

    public func ingestBatch(_ events: [Event]) async throws(HooklineError) -> [IngestResult] {
        guard !events.isEmpty else { return [] }
        return try await write { db in
            // Each tenant's endpoints are read once per transaction.
            var targets: [String: [DeliveryTarget]] = [:]
            var counts = DeliveryCountChanges()
            let results = try events.map { event in
                if targets[event.tenant] == nil { targets[event.tenant] = try Self.deliveryTargets(db, tenant: event.tenant) }
                return try Self.insert(event, targets: targets[event.tenant]!, counts: &counts, in: db)
            }
            try counts.save(in: db)
            return results
        }
    }

    /// The endpoints an event of `tenant` may be delivered to, read once per transaction: as many
    /// rows as the tenant has endpoints, whatever the others have.
    struct DeliveryTarget {
        var id: String
        var enabled: Bool
        var eventTypes: EventTypeSelection
    }

    static func deliveryTargets(_ db: Database, tenant: String) throws -> [DeliveryTarget] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT id, enabled, event_types FROM endpoint WHERE tenant = ? ORDER BY id"), arguments: [tenant]).map {
            DeliveryTarget(id: $0[0], enabled: $0[1], eventTypes: EventTypeSelection(stored: $0[2]))
        }
    }

    /// Stores an event and its deliveries, or returns the stored one with the same id.
    static func insert(_ event: Event, targets: [DeliveryTarget], counts: inout DeliveryCountChanges, in db: Database) throws -> IngestResult {
        if let existing = try Self.fetchEventSummary(db, id: event.id) {
            return .existing(existing)
        }
        let now = Self.millis(event.createdAt)
        try db.cachedStatement(sql: "INSERT INTO event (id, type, payload, created_at, tenant, trace_parent) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [event.id, event.type, Data(event.payload), now, event.tenant, event.traceParent])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO delivery (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        var made = 0
        for target in targets where target.eventTypes.includes(event.type) {
            try insert.execute(arguments: [
                Identifier.delivery(at: event.createdAt), event.id, target.id,
                target.enabled ? DeliveryStatus.pending.rawValue : DeliveryStatus.held.rawValue,
                target.enabled ? now : nil, now, now,
            ])
            counts.add(target.id, target.enabled ? .pending : .held)
            made += 1
        }
        return .created(EventSummary(event: event, deliveries: made))
    }

    public func event(id: String) async throws(HooklineError) -> EventSummary? {
        try await read { db in try Self.fetchEventSummary(db, id: id) }
    }

    public func events(_ query: EventQuery) async throws(HooklineError) -> [EventSummary] {
        try await read { db in try Self.fetchEvents(db, query) }
    }

    static func fetchEvents(_ db: Database, _ query: EventQuery) throws -> [EventSummary] {
        var sql = "SELECT \(Self.eventSummaryColumns) FROM event e"
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let type = query.type {
            clauses.append("e.type = ?")
            arguments += [type]
        }
        if let tenant = query.tenant {
            clauses.append("e.tenant = ?")
            arguments += [tenant]
        }
        if let since = query.since {
            clauses.append("e.created_at >= ?")
            arguments += [Self.millis(since)]
        }
        if let before = query.before {
            clauses.append("(e.created_at, e.id) < (?, ?)")
            arguments += [Self.millis(before.createdAt), before.id]
        }
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY e.created_at DESC, e.id DESC LIMIT ?"
        arguments += [query.limit]
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.eventSummary)
    }

    public func delivery(id: String) async throws(HooklineError) -> Delivery? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.deliveryColumns) FROM delivery WHERE id = ?", arguments: [id])
                .map(Self.delivery)
        }
    }

    public func deliveries(_ query: DeliveryQuery) async throws(HooklineError) -> [Delivery] {
        try await read { db in
            var clauses: [String] = []
            var arguments: StatementArguments = []
            if let status = query.status {
                clauses.append("status = ?")
                arguments += [status.rawValue]
            }
            if let endpointID = query.endpointID {
                clauses.append("endpoint_id = ?")
                arguments += [endpointID]
            }
            if let eventID = query.eventID {
                clauses.append("event_id = ?")
                arguments += [eventID]
            }
            if let tenant = query.tenant {
                // Walked in id order and filtered ("+" keeps SQLite from gathering and sorting the
                // tenant's deliveries): quick when the tenant owns many of them; a tenant with few
                // endpoints is paged per endpoint instead (HooklineStore.deliveryPage).
                clauses.append("+endpoint_id IN (SELECT id FROM endpoint WHERE tenant = ?)")
                arguments += [tenant]
            }
            if let before = query.before {
                clauses.append("id < ?")
                arguments += [before]
            }
            var sql = "SELECT \(Self.deliveryColumns) FROM delivery"
            if !clauses.isEmpty {
                sql += " WHERE " + clauses.joined(separator: " AND ")
            }
            // Delivery ids are ULIDs of their creation time: newest first is id order.
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [query.limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.delivery)
        }
    }

    public func countDeliveries(status: DeliveryStatus, endpointID: String?) async throws(HooklineError) -> Int {
        try await read { db in
            if let endpointID {
                return try Int.fetchOne(
                    db, sql: "SELECT n FROM delivery_count WHERE endpoint_id = ? AND status = ?",
                    arguments: [endpointID, status.rawValue]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT coalesce(sum(n), 0) FROM delivery_count WHERE status = ?", arguments: [status.rawValue]) ?? 0
        }
    }

    public func attempts(deliveryID: String) async throws(HooklineError) -> [Attempt] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Self.attemptColumns) FROM attempt WHERE delivery_id = ? ORDER BY number, id",
                arguments: [deliveryID]
            ).map(Self.attempt)
        }
    }

    public func auditEntries(limit: Int) async throws(HooklineError) -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT at, actor, action, target_ids, detail FROM audit ORDER BY at DESC, id DESC LIMIT ?",
                arguments: [limit]
            ).map(Self.auditEntry)
        }
    }

    static func fetchEventSummary(_ db: Database, id: String) throws -> EventSummary? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(eventSummaryColumns) FROM event e WHERE e.id = ?"), arguments: [id]
        ).map(eventSummary)
    }
}
