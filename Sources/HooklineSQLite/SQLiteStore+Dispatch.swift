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
    /// `known` holds endpoints whose breaker and enabled flag this transaction already read or
    /// wrote (a recording's), so that they are not read again.
    static func claim(
        _ plan: ClaimPlan, now: Date, leaseUntil: Date, owner: String, known: [String: (breaker: CircuitBreaker?, enabled: Bool)] = [:],
        in db: Database
    ) throws -> ClaimedBatch {
        let nowMs = Self.millis(now), leaseMs = Self.millis(leaseUntil)
        let countDue = try db.cachedStatement(sql: """
            SELECT count(*) FROM (SELECT 1 FROM delivery
                                  WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ? LIMIT ?)
            """)
        let enabled = try db.cachedStatement(sql: "SELECT enabled FROM endpoint WHERE id = ?")
        let select = RawStatement(try db.cachedStatement(sql: """
            SELECT d.id, d.event_id, d.attempts, d.manual, d.next_attempt_at, e.type, e.payload, e.trace_parent
            FROM delivery d JOIN event e ON e.id = d.event_id
            WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND (? = 0 OR d.manual = 1)
            ORDER BY d.next_attempt_at
            LIMIT ?
            """), in: db)
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
                    if let facts = known[endpointID] {
                        head.breaker = facts.breaker
                        head.enabled = facts.enabled
                    } else {
                        head.enabled = try Bool.fetchOne(enabled, arguments: [endpointID]) ?? false
                        head.breaker = try fetchBreaker(db, endpointID: endpointID)
                    }
                }
                guard let request = allotment.offer(head) else { continue }
                let (limit, limited) = try takeTokens(endpointID, upTo: request.limit, now: now, in: db)
                let before = claimed.count
                if limit > 0 {
                    select.bind(1, endpointID)
                    select.bind(2, nowMs)
                    select.bind(3, request.manualOnly)
                    select.bind(4, limit)
                    while try select.step() {
                        // By column index, in the order of the SELECT.
                        let id: String = select.string(0) ?? ""
                        let eventID: String = select.string(1) ?? ""
                        let eventType: String = select.string(5) ?? ""
                        let dueMs: Int64? = select.int64(4)
                        claimed.append(ClaimedDelivery(
                            id: id, eventID: eventID, eventType: eventType, endpointID: endpointID, payload: select.bytes(6),
                            attempts: select.int(2), manual: select.bool(3), dueAt: Self.date(dueMs), traceParent: select.string(7)))
                    }
                }
                let taken = claimed.count - before
                if limited { try returnTokens(endpointID, limit - taken, in: db) }
                allotment.unused(request.limit - taken)
                if taken > 0, let breaker = head.breaker { breakers[endpointID] = breaker }
            }
        }
        var counts = DeliveryCountChanges()
        let mark = RawStatement(try db.cachedStatement(sql: """
            UPDATE delivery SET status = 'sending', lease_until = ?, lease_owner = ?, updated_at = ? WHERE id = ?
            """), in: db)
        for delivery in claimed {
            mark.bind(1, leaseMs)
            mark.bind(2, owner)
            mark.bind(3, nowMs)
            mark.bind(4, delivery.id)
            try mark.run()
            counts.move(delivery.endpointID, from: .pending, to: .sending)
        }
        try counts.save(in: db)
        return ClaimedBatch(deliveries: claimed, breakers: breakers, cursor: allotment.cursor)
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
            let lease = RawStatement(try db.cachedStatement(sql: "SELECT status, lease_owner FROM delivery WHERE id = ?"), in: db)
            for result in results {
                lease.bind(1, result.delivery.id)
                guard try lease.step() else { continue }  // removed with its endpoint meanwhile
                let status: String = lease.string(0) ?? ""
                let leaseOwner: String? = lease.string(1)
                lease.reset()
                leases[result.delivery.id] = RecordingPlan.Lease(status: try DeliveryStatus(stored: status), owner: leaseOwner)
            }
            let lost = leases.filter { !$0.value.isHeld(by: owner) }.map(\.key)
            if !lost.isEmpty {
                let redacted = try db.cachedStatement(sql: """
                    SELECT e.redacted_at IS NOT NULL FROM delivery d JOIN event e ON e.id = d.event_id WHERE d.id = ?
                    """)
                for id in lost where try Bool.fetchOne(redacted, arguments: [id]) == true { leases[id]?.redacted = true }
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
            // What the claim would read again: the breakers as just written, the endpoints as left.
            for breaker in recording.breakers { breakers[breaker.endpointID] = breaker }
            for disable in recording.disables { enabled[disable.endpointID] = false }
            var known: [String: (breaker: CircuitBreaker?, enabled: Bool)] = [:]
            for endpointID in endpointIDs { known[endpointID] = (breakers[endpointID], enabled[endpointID] ?? false) }
            let claimed = try plan.map {
                try Self.claim($0, now: now, leaseUntil: leaseUntil, owner: owner, known: known, in: db)
            } ?? ClaimedBatch()
            return RecordedBatch(recorded: recording.recorded, claimed: claimed)
        }
    }

    /// Writes a recording plan, in the order its fields give.
    static func apply(_ recording: inout RecordingPlan, at nowMs: Int64, in db: Database) throws {
        let insertAttempt = RawStatement(try db.cachedStatement(sql: """
            INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code,
                                 error_class, error_message, response_excerpt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """), in: db)
        for row in recording.attempts {
            let attempt = row.attempt
            let startedMs: Int64 = Self.millis(attempt.startedAt)
            insertAttempt.bind(1, row.deliveryID)
            insertAttempt.bind(2, row.endpointID)
            insertAttempt.bind(3, attempt.number)
            insertAttempt.bind(4, attempt.trigger.rawValue)
            insertAttempt.bind(5, startedMs)
            insertAttempt.bind(6, attempt.durationMs)
            insertAttempt.bind(7, attempt.statusCode)
            insertAttempt.bind(8, attempt.errorClass)
            insertAttempt.bind(9, attempt.errorMessage)
            insertAttempt.bind(10, attempt.responseExcerpt)
            try insertAttempt.run()
        }
        let update = RawStatement(try db.cachedStatement(sql: """
            UPDATE delivery SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL,
                                lease_owner = NULL, last_status_code = ?, last_error = ?, manual = 0, updated_at = ?
            WHERE id = ?
            """), in: db)
        for change in recording.changes {
            let nextMs: Int64? = Self.millis(change.nextAttemptAt)
            update.bind(1, change.status.rawValue)
            update.bind(2, nextMs)
            update.bind(3, change.statusCode)
            update.bind(4, change.lastError)
            update.bind(5, nowMs)
            update.bind(6, change.deliveryID)
            try update.run()
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
