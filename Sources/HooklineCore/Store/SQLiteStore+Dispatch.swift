import Foundation
import GRDB

extension SQLiteStore {
    public func claim(_ requests: [ClaimRequest], now: Date, leaseUntil: Date, owner: String) async throws(HooklineError) -> [ClaimedDelivery] {
        try await write { db in try Self.claim(requests, now: now, leaseUntil: leaseUntil, owner: owner, in: db) }
    }

    static func claim(_ requests: [ClaimRequest], now: Date, leaseUntil: Date, owner: String, in db: Database) throws -> [ClaimedDelivery] {
        let nowMs = Self.millis(now), leaseMs = Self.millis(leaseUntil)
        let select = try db.cachedStatement(sql: """
            SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.manual, d.next_attempt_at, e.type, e.payload
            FROM delivery d JOIN event e ON e.id = d.event_id
            WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND (? = 0 OR d.manual = 1)
            ORDER BY d.next_attempt_at
            LIMIT ?
            """)
        let mark = try db.cachedStatement(sql: """
            UPDATE delivery SET status = 'sending', lease_until = ?, lease_owner = ?, updated_at = ?
            WHERE id = ?
            """)
        var claimed: [ClaimedDelivery] = []
        for request in requests where request.limit > 0 {
            let rows = try Row.fetchCursor(select, arguments: [request.endpointID, nowMs, request.manualOnly, request.limit])
            while let row = try rows.next() {
                // By column index, in the order of the SELECT: a lookup by name lowercases it each time.
                let payload: Data = row[7]
                let delivery = ClaimedDelivery(
                    id: row[0], eventID: row[1], eventType: row[6], endpointID: row[2],
                    payload: [UInt8](payload), attempts: row[3], manual: row[4], dueAt: Self.date(row[5] as Int64?))
                claimed.append(delivery)
            }
        }
        for delivery in claimed {
            try mark.execute(arguments: [leaseMs, owner, nowMs, delivery.id])
        }
        return claimed
    }

    public func nextDueAt() async throws(HooklineError) -> Date? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM delivery WHERE status = 'pending'").map(Self.date)
        }
    }

    public func record(
        _ results: [AttemptResult], planner: DeliveryPlanner, owner: String, at now: Date, thenClaim claims: [ClaimRequest], leaseUntil: Date
    ) async throws(HooklineError) -> RecordedBatch {
        let nowMs = Self.millis(now)
        return try await write { db in
            var recorded: [RecordedAttempt] = []
            // Each endpoint's breaker and state are read once per batch and written once at the end.
            var breakers: [String: CircuitBreaker] = [:]
            var enabledByEndpoint: [String: Bool] = [:]
            for result in results {
                let deliveryID = result.delivery.id
                guard let current = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT status, lease_owner, attempts FROM delivery WHERE id = ?"),
                    arguments: [deliveryID])
                else { continue }  // removed with its endpoint meanwhile
                let attempt = result.attempt
                try db.cachedStatement(sql: """
                    INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code,
                                         error_class, error_message, response_excerpt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        deliveryID, result.delivery.endpointID, attempt.number, attempt.trigger.rawValue,
                        Self.millis(attempt.startedAt), attempt.durationMs, attempt.statusCode, attempt.errorClass,
                        attempt.errorMessage, attempt.responseExcerpt,
                    ])
                let status: String = current[0]
                let leaseOwner: String? = current[1]
                guard status == DeliveryStatus.sending.rawValue, leaseOwner == owner else { continue }

                let endpointID = result.delivery.endpointID
                let enabled: Bool
                if let known = enabledByEndpoint[endpointID] {
                    enabled = known
                } else {
                    enabled = try Bool.fetchOne(
                        db.cachedStatement(sql: "SELECT enabled FROM endpoint WHERE id = ?"), arguments: [endpointID]) ?? false
                    enabledByEndpoint[endpointID] = enabled
                }
                var breaker = try breakers[endpointID]
                    ?? Self.fetchBreaker(db, endpointID: endpointID) ?? CircuitBreaker(endpointID: endpointID)
                let plan = planner.plan(result, breaker: &breaker, endpointEnabled: enabled, now: now)
                breakers[endpointID] = breaker

                let lastError = attempt.succeeded ? nil : (attempt.errorMessage ?? attempt.errorClass)
                try db.cachedStatement(sql: """
                    UPDATE delivery SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL,
                                        lease_owner = NULL, last_status_code = ?, last_error = ?, manual = 0, updated_at = ?
                    WHERE id = ?
                    """).execute(arguments: [
                        plan.status.rawValue, Self.millis(plan.nextAttemptAt), attempt.statusCode, lastError, nowMs, deliveryID,
                    ])
                if let reason = plan.disableEndpoint, enabled {
                    try Self.disableEndpoint(endpointID, reason: reason, at: nowMs, in: db)
                    enabledByEndpoint[endpointID] = false
                }
                if let until = plan.deferEndpointUntil {
                    try db.cachedStatement(sql: """
                        UPDATE delivery SET next_attempt_at = ?
                        WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at < ?
                        """).execute(arguments: [Self.millis(until), endpointID, Self.millis(until)])
                }
                recorded.append(RecordedAttempt(deliveryID: deliveryID, endpointID: endpointID, plan: plan, breaker: breaker))
            }
            for breaker in breakers.values {
                try Self.saveBreaker(breaker, in: db)
            }
            let claimed = try Self.claim(claims, now: now, leaseUntil: leaseUntil, owner: owner, in: db)
            return RecordedBatch(recorded: recorded, claimed: claimed)
        }
    }

    public func release(_ deliveryIDs: [String], nextAttemptAt: Date, owner: String) async throws(HooklineError) {
        guard !deliveryIDs.isEmpty else { return }
        let nextMs = Self.millis(nextAttemptAt)
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE delivery SET status = CASE WHEN (SELECT enabled FROM endpoint WHERE endpoint.id = delivery.endpoint_id) = 1
                                                  OR manual = 1 THEN 'pending' ELSE 'held' END,
                                    next_attempt_at = ?, lease_until = NULL, lease_owner = NULL
                WHERE id = ? AND status = 'sending' AND lease_owner = ?
                """)
            for id in deliveryIDs {
                try statement.execute(arguments: [nextMs, id, owner])
            }
        }
    }

    public func recoverExpiredLeases(now: Date) async throws(HooklineError) -> Int {
        let nowMs = Self.millis(now)
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE delivery SET status = 'pending', next_attempt_at = ?, lease_until = NULL, lease_owner = NULL, updated_at = ?
                    WHERE status = 'sending' AND lease_until < ?
                    """,
                arguments: [nowMs, nowMs, nowMs])
            return db.changesCount
        }
    }

    public func markProbe(endpointID: String, at now: Date) async throws(HooklineError) {
        let nowMs = Self.millis(now)
        try await write { db in
            try db.execute(
                sql: "UPDATE breaker SET state = 'half_open', updated_at = ? WHERE endpoint_id = ? AND state = 'open'",
                arguments: [nowMs, endpointID])
        }
    }

    public func activeDeliveryCount() async throws(HooklineError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')") ?? 0
        }
    }

    static func disableEndpoint(_ id: String, reason: String, at nowMs: Int64, in db: Database) throws {
        try db.execute(
            sql: "UPDATE endpoint SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?",
            arguments: [reason, nowMs, nowMs, id])
        try db.execute(
            sql: "UPDATE delivery SET status = 'held', next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
            arguments: [nowMs, id])
        try insertAudit(AuditEntry(at: date(nowMs), actor: .system, action: "endpoint.disable", targetIDs: [id], detail: reason), in: db)
    }
}
