import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    static let breakerColumns = """
        endpoint_id, state, consecutive_failures, window_started_at, window_attempts, window_failures, opened_at,
        next_probe_at, trips, failing_since, updated_at
        """

    /// A breaker from a row of ``breakerColumns``, in that order (by index: a lookup by name
    /// lowercases it each time, and the recording transaction reads a breaker per endpoint twice).
    static func breaker(_ row: Row) -> CircuitBreaker {
        var breaker = CircuitBreaker(endpointID: row[0])
        breaker.state = BreakerState(rawValue: row[1]) ?? .closed
        breaker.consecutiveFailures = row[2]
        breaker.windowStartedAt = date(row[3])
        breaker.windowAttempts = row[4]
        breaker.windowFailures = row[5]
        breaker.openedAt = date(row[6])
        breaker.nextProbeAt = date(row[7])
        breaker.trips = row[8]
        breaker.failingSince = date(row[9])
        breaker.updatedAt = date(row[10])
        return breaker
    }

    static func fetchBreaker(_ db: Database, endpointID: String) throws -> CircuitBreaker? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(breakerColumns) FROM breaker WHERE endpoint_id = ?"), arguments: [endpointID]
        ).map(breaker)
    }

    static func saveBreaker(_ b: CircuitBreaker, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO breaker (\(breakerColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [
                b.endpointID, b.state.rawValue, b.consecutiveFailures, millis(b.windowStartedAt), b.windowAttempts,
                b.windowFailures, millis(b.openedAt), millis(b.nextProbeAt), b.trips, millis(b.failingSince),
                millis(b.updatedAt ?? Date()) as Int64,
            ])
    }

    public func breakers() async throws(HooklineError) -> [CircuitBreaker] {
        try await read { db in try Self.fetchBreakers(db) }
    }

    public func breakers(endpointIDs: [String], orNotClosed: Bool) async throws(HooklineError) -> [CircuitBreaker] {
        try await read { db in
            var found: [String: CircuitBreaker] = [:]
            if orNotClosed {
                // Through breaker_not_closed: as many rows as breakers that are open or half-open.
                for row in try Row.fetchAll(db, sql: "SELECT \(Self.breakerColumns) FROM breaker WHERE state != 'closed'") {
                    let breaker = Self.breaker(row)
                    found[breaker.endpointID] = breaker
                }
            }
            for id in endpointIDs where found[id] == nil {
                if let breaker = try Self.fetchBreaker(db, endpointID: id) { found[id] = breaker }
            }
            return found.values.sorted { $0.endpointID.utf8.lexicographicallyPrecedes($1.endpointID.utf8) }
        }
    }

    static func fetchBreakers(_ db: Database) throws -> [CircuitBreaker] {
        try Row.fetchAll(db, sql: "SELECT \(breakerColumns) FROM breaker ORDER BY endpoint_id").map(breaker)
    }

    public func resetBreaker(endpointID: String, at now: Date, audit: AuditEntry) async throws(HooklineError) -> CircuitBreaker {
        let nowMs = Self.millis(now)
        return try await write { db in
            guard try Self.fetchEndpoint(db, id: endpointID, secrets: self.secrets) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: endpointID)
            }
            let reset = BreakerResetPlan(
                endpointID: endpointID, previous: try Self.fetchBreaker(db, endpointID: endpointID), at: now, audit: audit)
            try Self.saveBreaker(reset.breaker, in: db)
            if let through = reset.dueAgainThrough {
                try db.execute(
                    sql: """
                        UPDATE delivery SET next_attempt_at = ?
                        WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at > ? AND next_attempt_at <= ?
                        """,
                    arguments: [nowMs, endpointID, nowMs, Self.millis(through)])
            }
            try Self.insertAudit(reset.audit, in: db)
            return reset.breaker
        }
    }

    public func redeliver(_ deliveryIDs: [String], onlyIfStatus: DeliveryStatus?, at now: Date, audit: AuditEntry) async throws(HooklineError) -> RedeliveryResult {
        let nowMs = Self.millis(now)
        return try await write { db in
            let select = try db.cachedStatement(sql: """
                SELECT d.status, d.endpoint_id, e.redacted_at IS NOT NULL FROM delivery d JOIN event e ON e.id = d.event_id WHERE d.id = ?
                """)
            var current: [String: RedeliveryPlan.Current] = [:]
            for id in deliveryIDs {
                guard let row = try Row.fetchOne(select, arguments: [id]) else { continue }
                current[id] = RedeliveryPlan.Current(status: try DeliveryStatus(stored: row[0]), endpointID: row[1], redacted: row[2])
            }
            let plan = RedeliveryPlan(deliveryIDs, current: current, onlyIfStatus: onlyIfStatus, audit: audit)
            let requeue = try db.cachedStatement(sql: """
                UPDATE delivery SET status = 'pending', next_attempt_at = ?, manual = 1, updated_at = ? WHERE id = ?
                """)
            for id in plan.requeue { try requeue.execute(arguments: [nowMs, nowMs, id]) }
            try plan.counts.save(in: db)
            if let entry = plan.audit { try Self.insertAudit(entry, in: db) }
            return plan.result
        }
    }

    public func failedDeliveryIDs(endpointID: String, since: Date?) async throws(HooklineError) -> [String] {
        let sinceMs = Self.millis(since) ?? 0
        return try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM delivery WHERE endpoint_id = ? AND status = 'failed' AND updated_at >= ?
                    ORDER BY updated_at, id
                    """,
                arguments: [endpointID, sinceMs])
        }
    }

    public func endpointStats(since: Date) async throws(HooklineError) -> [String: EndpointStats] {
        let sinceMs = Self.millis(since)
        return try await read { db in try Self.fetchEndpointStats(db, sinceMs: sinceMs) }
    }

    /// Attempts, successes and p95 latency per endpoint since `sinceMs`, from one walk of the
    /// covering index `attempt_by_started` (one pass whatever the number of endpoints).
    static func fetchEndpointStats(_ db: Database, sinceMs: Int64) throws -> [String: EndpointStats] {
        var seen: [String: (durations: [Int], successes: Int)] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT endpoint_id, status_code, duration_ms FROM attempt INDEXED BY attempt_by_started WHERE started_at >= ?",
            arguments: [sinceMs])
        while let row = try rows.next() {
            let endpointID: String = row[0]
            let status: Int? = row[1]
            let duration: Int = row[2]
            let success = status.map { (200...299).contains($0) } ?? false
            seen[endpointID, default: ([], 0)].durations.append(duration)
            if success { seen[endpointID]?.successes += 1 }
        }
        return seen.mapValues { EndpointStats(attempts: $0.durations.count, successes: $0.successes, p95LatencyMs: EndpointStats.p95($0.durations)) }
    }
}
