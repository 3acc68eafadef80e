import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func claim(_ plan: ClaimPlan, now: Date, leaseUntil: Date, owner: String) async throws(HooklineError) -> ClaimedBatch {
        try await write { db in try Self.claim(plan, now: now, leaseUntil: leaseUntil, owner: owner, in: db) }
    }

    /// The next endpoint after `position` (in id order) with pending deliveries, and its earliest
    /// due time: one seek in `delivery_due_by_endpoint`, however many endpoints have no work.
    static func nextHead(after position: String, in db: Database) throws -> (id: String, due: Date)? {
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT endpoint_id, next_attempt_at FROM delivery
            WHERE status = 'pending' AND endpoint_id > ? ORDER BY endpoint_id, next_attempt_at LIMIT 1
            """), arguments: [position])
        return row.map { ($0[0], date($0[1] as Int64? ?? 0)) }
    }

    /// Walks the endpoints with pending work as ``ClaimAllotment`` directs and claims what it allots.
    static func claim(_ plan: ClaimPlan, now: Date, leaseUntil: Date, owner: String, in db: Database) throws -> ClaimedBatch {
        let nowMs = Self.millis(now), leaseMs = Self.millis(leaseUntil)
        let countDue = try db.cachedStatement(sql: """
            SELECT count(*) FROM (SELECT 1 FROM delivery
                                  WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ? LIMIT ?)
            """)
        let enabled = try db.cachedStatement(sql: "SELECT enabled FROM endpoint WHERE id = ?")
        let select = try db.cachedStatement(sql: """
            SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.manual, d.next_attempt_at, e.type, e.payload
            FROM delivery d JOIN event e ON e.id = d.event_id
            WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND (? = 0 OR d.manual = 1)
            ORDER BY d.next_attempt_at
            LIMIT ?
            """)
        var allotment = ClaimAllotment(plan, now: now)
        var claimed: [ClaimedDelivery] = []
        var breakers: [String: CircuitBreaker] = [:]
        for lap in allotment.laps {
            var position = lap.after ?? ""
            while allotment.wantsMore, let (endpointID, due) = try nextHead(after: position, in: db) {
                if let upTo = lap.upTo, upTo.utf8.lexicographicallyPrecedes(endpointID.utf8) { break }
                position = endpointID
                var head = EndpointHead(endpointID: endpointID, earliestDue: due, dueCount: 0, enabled: true, breaker: nil)
                if due <= now {
                    head.dueCount = try Int.fetchOne(countDue, arguments: [endpointID, nowMs, allotment.largestRoom]) ?? 0
                    head.enabled = try Bool.fetchOne(enabled, arguments: [endpointID]) ?? false
                    head.breaker = try fetchBreaker(db, endpointID: endpointID)
                }
                guard let request = allotment.offer(head) else { continue }
                let (limit, limited) = try takeTokens(endpointID, upTo: request.limit, now: now, in: db)
                let before = claimed.count
                if limit > 0 {
                    let rows = try Row.fetchCursor(select, arguments: [endpointID, nowMs, request.manualOnly, limit])
                    while let row = try rows.next() {
                        // By column index, in the order of the SELECT: a lookup by name lowercases it each time.
                        let payload: Data = row[7]
                        claimed.append(ClaimedDelivery(
                            id: row[0], eventID: row[1], eventType: row[6], endpointID: row[2],
                            payload: [UInt8](payload), attempts: row[3], manual: row[4], dueAt: Self.date(row[5] as Int64?)))
                    }
                }
                let taken = claimed.count - before
                if limited { try returnTokens(endpointID, limit - taken, in: db) }
                allotment.unused(request.limit - taken)
                if taken > 0, let breaker = head.breaker { breakers[endpointID] = breaker }
            }
        }
        var counts = DeliveryCountChanges()
        for chunk in chunks(of: claimed) {
            let mark = try db.cachedStatement(sql: """
                UPDATE delivery SET status = 'sending', lease_until = ?, lease_owner = ?, updated_at = ?
                WHERE id IN (\(placeholders(chunk.count)))
                """)
            try mark.execute(arguments: StatementArguments([leaseMs, owner, nowMs] as [any DatabaseValueConvertible]) + StatementArguments(chunk.map(\.id)))
            for delivery in chunk { counts.move(delivery.endpointID, from: .pending, to: .sending) }
        }
        try counts.save(in: db)
        return ClaimedBatch(deliveries: claimed, breakers: breakers, cursor: allotment.cursor)
    }

    /// Rows per multi-row statement: at most 10 columns × 64 rows, far below SQLite's limit on
    /// parameters, and few enough distinct statement texts (one per chunk size) for the cache.
    static let rowsPerStatement = 64

    /// `items` in chunks of at most ``rowsPerStatement``.
    static func chunks<T>(of items: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: rowsPerStatement).map { items[$0..<min($0 + rowsPerStatement, items.count)] }
    }

    /// `?, ?, …` for `count` parameters.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
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
            // The earliest of each endpoint's earliest: one seek per endpoint with pending work.
            var earliest: Date?
            var position = ""
            while let (endpointID, due) = try Self.nextHead(after: position, in: db) {
                position = endpointID
                earliest = min(earliest ?? due, due)
            }
            return earliest
        }
    }

    public func record(
        _ results: [AttemptResult], planner: DeliveryPlanner, owner: String, at now: Date, thenClaim plan: ClaimPlan?, leaseUntil: Date
    ) async throws(HooklineError) -> RecordedBatch {
        let nowMs = Self.millis(now)
        return try await write { db in
            var leases: [String: RecordingPlan.Lease] = [:]
            for chunk in Self.chunks(of: results.map(\.delivery.id)) {
                let lease = try db.cachedStatement(sql: "SELECT id, status, lease_owner FROM delivery WHERE id IN (\(Self.placeholders(chunk.count)))")
                let rows = try Row.fetchCursor(lease, arguments: StatementArguments(chunk))
                while let row = try rows.next() {
                    leases[row[0]] = RecordingPlan.Lease(status: try DeliveryStatus(stored: row[1]), owner: row[2])
                }
            }
            let endpointIDs = Set(results.map(\.delivery.endpointID))
            var breakers: [String: CircuitBreaker] = [:]
            var enabled: [String: Bool] = [:]
            for endpointID in endpointIDs {
                breakers[endpointID] = try Self.fetchBreaker(db, endpointID: endpointID)
                enabled[endpointID] = try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT enabled FROM endpoint WHERE id = ?"), arguments: [endpointID])
            }
            var recording = RecordingPlan(
                results, leases: leases, breakers: breakers, enabled: enabled, planner: planner, owner: owner, now: now)
            try Self.apply(&recording, at: nowMs, in: db)
            let claimed = try plan.map { try Self.claim($0, now: now, leaseUntil: leaseUntil, owner: owner, in: db) } ?? ClaimedBatch()
            return RecordedBatch(recorded: recording.recorded, claimed: claimed)
        }
    }

    /// Writes a recording plan, in the order its fields give.
    static func apply(_ recording: inout RecordingPlan, at nowMs: Int64, in db: Database) throws {
        // One statement per chunk of rows, not per attempt.
        for chunk in Self.chunks(of: recording.attempts) {
            let insertAttempt = try db.cachedStatement(sql: """
                INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code,
                                     error_class, error_message, response_excerpt)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                """)
            var values: [(any DatabaseValueConvertible)?] = []
            values.reserveCapacity(chunk.count * 10)
            for row in chunk {
                let attempt = row.attempt
                values += [
                    row.deliveryID, row.endpointID, attempt.number, attempt.trigger.rawValue, Self.millis(attempt.startedAt),
                    attempt.durationMs, attempt.statusCode, attempt.errorClass, attempt.errorMessage, attempt.responseExcerpt,
                ]
            }
            try insertAttempt.execute(arguments: StatementArguments(values))
        }
        let update = try db.cachedStatement(sql: """
            UPDATE delivery SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL,
                                lease_owner = NULL, last_status_code = ?, last_error = ?, manual = 0, updated_at = ?
            WHERE id = ?
            """)
        for change in recording.changes {
            try update.execute(arguments: [
                change.status.rawValue, Self.millis(change.nextAttemptAt), change.statusCode, change.lastError, nowMs, change.deliveryID,
            ])
        }
        for disable in recording.disables {
            let held = try Self.disableEndpoint(disable.endpointID, reason: disable.reason, at: nowMs, in: db)
            recording.counts.move(disable.endpointID, from: .pending, to: .held, held)
        }
        let deferral = try db.cachedStatement(sql: """
            UPDATE delivery SET next_attempt_at = ? WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at < ?
            """)
        for (endpointID, until) in recording.deferrals {
            try deferral.execute(arguments: [Self.millis(until), endpointID, Self.millis(until)])
        }
        for breaker in recording.breakers { try Self.saveBreaker(breaker, in: db) }
        try recording.counts.save(in: db)
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
            // Through delivery_leased: only deliveries in flight are looked at, whatever the endpoints.
            let expired = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, endpoint_id FROM delivery WHERE status = 'sending' AND lease_until < ?"),
                arguments: [nowMs])
            let recover = try db.cachedStatement(sql: """
                UPDATE delivery SET status = 'pending', next_attempt_at = ?, lease_until = NULL, lease_owner = NULL, updated_at = ?
                WHERE id = ?
                """)
            var counts = DeliveryCountChanges()
            for row in expired {
                try recover.execute(arguments: [nowMs, nowMs, row[0] as String])
                counts.move(row[1], from: .sending, to: .pending)
            }
            try counts.save(in: db)
            return expired.count
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

    /// Disables an endpoint and holds its pending deliveries; returns how many it held (the
    /// caller counts them).
    static func disableEndpoint(_ id: String, reason: String, at nowMs: Int64, in db: Database) throws -> Int {
        try db.execute(
            sql: "UPDATE endpoint SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?",
            arguments: [reason, nowMs, nowMs, id])
        try db.execute(
            sql: "UPDATE delivery SET status = 'held', next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
            arguments: [nowMs, id])
        let held = db.changesCount
        try insertAudit(AuditEntry(at: date(nowMs), actor: .system, action: "endpoint.disable", targetIDs: [id], detail: reason), in: db)
        return held
    }
}
