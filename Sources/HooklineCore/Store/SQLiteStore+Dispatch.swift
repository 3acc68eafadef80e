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
            let (limit, limited) = try takeTokens(request.endpointID, upTo: request.limit, now: now, in: db)
            guard limit > 0 else { continue }
            let before = claimed.count
            let rows = try Row.fetchCursor(select, arguments: [request.endpointID, nowMs, request.manualOnly, limit])
            while let row = try rows.next() {
                // By column index, in the order of the SELECT: a lookup by name lowercases it each time.
                let payload: Data = row[7]
                let delivery = ClaimedDelivery(
                    id: row[0], eventID: row[1], eventType: row[6], endpointID: row[2],
                    payload: [UInt8](payload), attempts: row[3], manual: row[4], dueAt: Self.date(row[5] as Int64?))
                claimed.append(delivery)
            }
            if limited {
                try returnTokens(request.endpointID, limit - (claimed.count - before), in: db)
            }
        }
        var counts = DeliveryCountChanges()
        for delivery in claimed {
            try mark.execute(arguments: [leaseMs, owner, nowMs, delivery.id])
            counts.move(delivery.endpointID, from: .pending, to: .sending)
        }
        try counts.save(in: db)
        return claimed
    }

    /// The endpoint's rate limit, if it has one.
    static func rateLimit(_ endpointID: String, in db: Database) throws -> Double? {
        try Double.fetchOne(db.cachedStatement(sql: "SELECT rate_limit FROM endpoint WHERE id = ?"), arguments: [endpointID])
    }

    /// How many deliveries a claim may take for a rate-limited endpoint: tokens from the bucket that
    /// every dispatcher on this database shares (so the limit holds for all of them together).
    /// Endpoints without a limit get `count`; `limited` says whether a bucket was drawn from.
    static func takeTokens(_ endpointID: String, upTo count: Int, now: Date, in db: Database) throws -> (count: Int, limited: Bool) {
        guard let rate = try rateLimit(endpointID, in: db) else { return (count, false) }
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT tokens, updated_at FROM rate_bucket WHERE endpoint_id = ?"), arguments: [endpointID])
        var bucket = row.map { TokenBucket(rate: rate, tokens: $0[0], updatedAt: date($0[1] as Int64)) } ?? TokenBucket(rate: rate, now: now)
        let taken = bucket.take(upTo: count, now: now)
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO rate_bucket (endpoint_id, tokens, updated_at) VALUES (?, ?, ?)")
            .execute(arguments: [endpointID, bucket.tokens, millis(bucket.updatedAt)])
        return (taken, true)
    }

    /// Gives back tokens a claim took but found no due delivery for.
    static func returnTokens(_ endpointID: String, _ unused: Int, in db: Database) throws {
        guard unused > 0 else { return }
        try db.cachedStatement(sql: "UPDATE rate_bucket SET tokens = tokens + ? WHERE endpoint_id = ?").execute(arguments: [Double(unused), endpointID])
    }

    public func nextDueAt() async throws(HooklineError) -> Date? {
        try await read { db in
            // The earliest of each endpoint's earliest, each one seek in delivery_due_by_endpoint.
            try Int64.fetchOne(db, sql: """
                SELECT min((SELECT min(next_attempt_at) FROM delivery WHERE endpoint_id = endpoint.id AND status = 'pending')) FROM endpoint
                """).map(Self.date)
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
            var counts = DeliveryCountChanges()
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
                counts.move(endpointID, from: .sending, to: plan.status)
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
            try counts.save(in: db)
            let claimed = try Self.claim(claims, now: now, leaseUntil: leaseUntil, owner: owner, in: db)
            return RecordedBatch(recorded: recorded, claimed: claimed)
        }
    }

    public func release(_ deliveryIDs: [String], nextAttemptAt: Date, owner: String) async throws(HooklineError) {
        guard !deliveryIDs.isEmpty else { return }
        let nextMs = Self.millis(nextAttemptAt)
        try await write { db in
            let current = try db.cachedStatement(sql: """
                SELECT d.endpoint_id, d.manual, e.enabled FROM delivery d JOIN endpoint e ON e.id = d.endpoint_id
                WHERE d.id = ? AND d.status = 'sending' AND d.lease_owner = ?
                """)
            let update = try db.cachedStatement(sql: """
                UPDATE delivery SET status = ?, next_attempt_at = ?, lease_until = NULL, lease_owner = NULL WHERE id = ?
                """)
            var counts = DeliveryCountChanges()
            for id in deliveryIDs {
                guard let row = try Row.fetchOne(current, arguments: [id, owner]) else { continue }
                let endpointID: String = row[0]
                // A disabled endpoint's deliveries are held, unless an operator asked for them.
                let status: DeliveryStatus = (row[2] as Bool) || (row[1] as Bool) ? .pending : .held
                try update.execute(arguments: [status.rawValue, nextMs, id])
                counts.move(endpointID, from: .sending, to: status)
            }
            try counts.save(in: db)
        }
    }

    public func recoverExpiredLeases(now: Date) async throws(HooklineError) -> Int {
        let nowMs = Self.millis(now)
        return try await write { db in
            // Per endpoint, through delivery_by_endpoint: only deliveries in flight are looked at.
            let recover = try db.cachedStatement(sql: """
                UPDATE delivery SET status = 'pending', next_attempt_at = ?, lease_until = NULL, lease_owner = NULL, updated_at = ?
                WHERE endpoint_id = ? AND status = 'sending' AND lease_until < ?
                """)
            var counts = DeliveryCountChanges()
            var recovered = 0
            for endpointID in try String.fetchAll(db, sql: "SELECT id FROM endpoint") {
                try recover.execute(arguments: [nowMs, nowMs, endpointID, nowMs])
                counts.move(endpointID, from: .sending, to: .pending, db.changesCount)
                recovered += db.changesCount
            }
            try counts.save(in: db)
            return recovered
        }
    }

    public func markProbe(endpointID: String, at now: Date, takeOverAfter: TimeInterval) async throws(HooklineError) -> Bool {
        let nowMs = Self.millis(now)
        let staleMs = Self.millis(now.addingTimeInterval(-takeOverAfter))
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE breaker SET state = 'half_open', updated_at = ?
                    WHERE endpoint_id = ?
                      AND ((state = 'open' AND coalesce(next_probe_at, 0) <= ?) OR (state = 'half_open' AND updated_at <= ?))
                    """,
                arguments: [nowMs, endpointID, nowMs, staleMs])
            return db.changesCount == 1
        }
    }

    public func activeDeliveryCount() async throws(HooklineError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT coalesce(sum(n), 0) FROM delivery_count WHERE status IN ('pending', 'sending')") ?? 0
        }
    }

    static func disableEndpoint(_ id: String, reason: String, at nowMs: Int64, in db: Database) throws {
        try db.execute(
            sql: "UPDATE endpoint SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?",
            arguments: [reason, nowMs, nowMs, id])
        try db.execute(
            sql: "UPDATE delivery SET status = 'held', next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
            arguments: [nowMs, id])
        var counts = DeliveryCountChanges()
        counts.move(id, from: .pending, to: .held, db.changesCount)
        try counts.save(in: db)
        try insertAudit(AuditEntry(at: date(nowMs), actor: .system, action: "endpoint.disable", targetIDs: [id], detail: reason), in: db)
    }
}
