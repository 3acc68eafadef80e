import Foundation
import HooklineCore
import NIOCore
import PostgresNIO

extension PostgresStore {
    public func claim(_ plan: ClaimPlan, now: Date, leaseUntil: Date, owner: String) async throws(HooklineError) -> ClaimedBatch {
        let logger = self.logger
        return try await write { connection in
            try await Self.claim(plan, now: now, leaseUntil: leaseUntil, owner: owner, on: connection, logger)
        }
    }

    /// Up to `limit` endpoints with pending deliveries, in id order after `after` (and not past
    /// `upTo`), each with its earliest due time, its due deliveries counted up to `countUpTo`, and
    /// whether it is enabled: one statement, each step of the walk one seek in delivery_due_by_endpoint.
    static func heads(
        after: String?, upTo: String?, limit: Int, now: Date, countUpTo: Int, on connection: PostgresConnection, _ logger: Logger
    ) async throws -> [EndpointHead] {
        guard limit > 0 else { return [] }
        let nowMs = millis(now)
        let rows = try await connection.rows("""
            WITH RECURSIVE walk(endpoint_id, step) AS (
                SELECT (SELECT min(endpoint_id) FROM delivery WHERE status = 'pending' AND endpoint_id > \(after ?? "")), 1
              UNION ALL
                SELECT (SELECT min(d.endpoint_id) FROM delivery d WHERE d.status = 'pending' AND d.endpoint_id > w.endpoint_id), w.step + 1
                FROM walk w
                WHERE w.endpoint_id IS NOT NULL AND w.step < \(limit) AND (\(upTo)::text IS NULL OR w.endpoint_id < \(upTo)::text)
            )
            SELECT w.endpoint_id, h.due, e.enabled,
                   CASE WHEN h.due <= \(nowMs) THEN (SELECT count(*) FROM (SELECT 1 FROM delivery c
                        WHERE c.endpoint_id = w.endpoint_id AND c.status = 'pending' AND c.next_attempt_at <= \(nowMs)
                        LIMIT \(countUpTo)) x) ELSE 0 END
            FROM walk w
            CROSS JOIN LATERAL (SELECT min(next_attempt_at) AS due FROM delivery
                                WHERE status = 'pending' AND endpoint_id = w.endpoint_id) h
            JOIN endpoint e ON e.id = w.endpoint_id
            WHERE w.endpoint_id IS NOT NULL AND (\(upTo)::text IS NULL OR w.endpoint_id <= \(upTo)::text)
            ORDER BY w.step
            """, logger)
        return try rows.map { row in
            EndpointHead(
                endpointID: try row.get(0), earliestDue: date(try row.get(1, as: Int64?.self) ?? 0),
                dueCount: try row.get(3, as: Int.self), enabled: try row.get(2), breaker: nil)
        }
    }

    /// Walks the endpoints with pending work as ``ClaimAllotment`` directs, then takes what it allots
    /// in one statement, skipping deliveries another transaction holds (`SKIP LOCKED`); a
    /// rate-limited endpoint takes tokens from its shared bucket first.
    static func claim(
        _ plan: ClaimPlan, now: Date, leaseUntil: Date, owner: String, on connection: PostgresConnection, _ logger: Logger
    ) async throws -> ClaimedBatch {
        let nowMs = millis(now), leaseMs = millis(leaseUntil)
        var allotment = ClaimAllotment(plan, now: now)
        var heads: [String: EndpointHead] = [:]
        for lap in allotment.laps {
            var position = lap.after
            // In steps about the size of the budget: most claims need few endpoints, not the whole walk.
            while allotment.wantsMore {
                let size = min(plan.maxEndpoints - allotment.visited, max(32, allotment.budget))
                var walked = try await Self.heads(
                    after: position, upTo: lap.upTo, limit: size, now: now, countUpTo: allotment.largestRoom, on: connection, logger)
                let due = walked.filter { $0.dueCount > 0 }.map(\.endpointID)
                if !due.isEmpty {
                    var breakers: [String: CircuitBreaker] = [:]
                    for row in try await connection.rows(
                        "SELECT \(unescaped: Self.breakerColumns) FROM breaker WHERE endpoint_id = ANY(\(due))", logger) {
                        let breaker = try Self.breaker(row)
                        breakers[breaker.endpointID] = breaker
                    }
                    for index in walked.indices { walked[index].breaker = breakers[walked[index].endpointID] }
                }
                for head in walked {
                    heads[head.endpointID] = head
                    _ = allotment.offer(head)
                }
                guard walked.count == size, let last = walked.last else { break }
                position = last.endpointID
            }
        }
        var requests = allotment.requests
        guard !requests.isEmpty else { return ClaimedBatch(cursor: allotment.cursor) }
        // Rate-limited endpoints draw from the bucket every node shares, locked in endpoint order.
        let rates = try await connection.rows(
            "SELECT id, rate_limit FROM endpoint WHERE id = ANY(\(requests.map(\.endpointID))) AND rate_limit IS NOT NULL ORDER BY id", logger
        ).reduce(into: [String: Double]()) { $0[try $1.get(0, as: String.self)] = try $1.get(1, as: Double.self) }
        var buckets: [String: TokenBucket] = [:]
        for (endpointID, rate) in rates.sorted(by: { $0.key < $1.key }) {
            try await connection.run("""
                INSERT INTO rate_bucket (endpoint_id, tokens, updated_at) VALUES (\(endpointID), \(max(1, rate)), \(nowMs))
                ON CONFLICT (endpoint_id) DO NOTHING
                """, logger)
            let row = try await connection.rows(
                "SELECT tokens, updated_at FROM rate_bucket WHERE endpoint_id = \(endpointID) FOR UPDATE", logger
            ).first
            var bucket = TokenBucket(
                rate: rate, tokens: try row?.get(0, as: Double.self) ?? 0, updatedAt: date(try row?.get(1, as: Int64.self) ?? nowMs))
            if let index = requests.firstIndex(where: { $0.endpointID == endpointID }) {
                requests[index].limit = bucket.take(upTo: requests[index].limit, now: now)
            }
            buckets[endpointID] = bucket
        }
        requests.removeAll { $0.limit <= 0 }
        var claimed: [ClaimedDelivery] = []
        var counts = DeliveryCountChanges()
        var taken: [String: Int] = [:]
        if !requests.isEmpty {
            let rows = try await connection.rows("""
                UPDATE delivery d SET status = 'sending', lease_until = \(leaseMs), lease_owner = \(owner), updated_at = \(nowMs)
                FROM (SELECT x.id
                      FROM unnest(\(requests.map(\.endpointID))::text[], \(requests.map(\.limit))::integer[],
                                  \(requests.map(\.manualOnly))::boolean[]) AS r(endpoint_id, lim, manual_only)
                      CROSS JOIN LATERAL (
                          SELECT id FROM delivery
                          WHERE endpoint_id = r.endpoint_id AND status = 'pending' AND next_attempt_at <= \(nowMs)
                            AND (NOT r.manual_only OR manual)
                          ORDER BY next_attempt_at LIMIT r.lim FOR UPDATE SKIP LOCKED) x) due,
                     event e
                WHERE d.id = due.id AND e.id = d.event_id
                RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.manual, d.next_attempt_at, e.type, e.payload, e.trace_parent
                """, logger)
            for row in rows {
                let payload = try row.get(7, as: ByteBuffer.self)
                let delivery = ClaimedDelivery(
                    id: try row.get(0), eventID: try row.get(1), eventType: try row.get(6), endpointID: try row.get(2),
                    payload: Array(payload.readableBytesView), attempts: try row.get(3), manual: try row.get(4),
                    dueAt: date(try row.get(5, as: Int64?.self)), traceParent: try row.get(8, as: String?.self))
                claimed.append(delivery)
                counts.move(delivery.endpointID, from: .pending, to: .sending)
                taken[delivery.endpointID, default: 0] += 1
            }
        }
        for (endpointID, var bucket) in buckets.sorted(by: { $0.key < $1.key }) {
            // Tokens not used by this claim go back to the bucket.
            let unused = (requests.first { $0.endpointID == endpointID }?.limit ?? 0) - (taken[endpointID] ?? 0)
            bucket = TokenBucket(rate: bucket.rate, tokens: bucket.tokens + Double(max(0, unused)), updatedAt: bucket.updatedAt)
            try await connection.run("""
                UPDATE rate_bucket SET tokens = \(bucket.tokens), updated_at = \(millis(bucket.updatedAt))
                WHERE endpoint_id = \(endpointID)
                """, logger)
        }
        try await counts.save(on: connection, logger)
        var breakers: [String: CircuitBreaker] = [:]
        for endpointID in taken.keys { if let breaker = heads[endpointID]?.breaker { breakers[endpointID] = breaker } }
        return ClaimedBatch(deliveries: claimed, breakers: breakers, cursor: allotment.cursor)
    }

    public func nextDueAt() async throws(HooklineError) -> Date? {
        let logger = self.logger
        return try await read { connection in
            // The earliest of each endpoint's earliest: one seek per endpoint with pending work.
            try await connection.rows("""
                WITH RECURSIVE walk(endpoint_id) AS (
                    SELECT min(endpoint_id) FROM delivery WHERE status = 'pending'
                  UNION ALL
                    SELECT (SELECT min(d.endpoint_id) FROM delivery d WHERE d.status = 'pending' AND d.endpoint_id > w.endpoint_id)
                    FROM walk w WHERE w.endpoint_id IS NOT NULL
                )
                SELECT min((SELECT min(next_attempt_at) FROM delivery d WHERE d.status = 'pending' AND d.endpoint_id = w.endpoint_id))
                FROM walk w WHERE w.endpoint_id IS NOT NULL
                """, logger).first?.get(0, as: Int64?.self).map(Self.date)
        }
    }

    public func record(
        _ results: [AttemptResult], planner: DeliveryPlanner, owner: String, at now: Date, thenClaim plan: ClaimPlan?, leaseUntil: Date
    ) async throws(HooklineError) -> RecordedBatch {
        let logger = self.logger
        let nowMs = Self.millis(now)
        return try await write { connection in
            // The batch's breakers are locked first, in endpoint order: one breaker per endpoint for
            // every node, and no two batches waiting on each other.
            let endpointIDs = Array(Set(results.map(\.delivery.endpointID))).sorted()
            var breakers: [String: CircuitBreaker] = [:]
            var enabled: [String: Bool] = [:]
            if !endpointIDs.isEmpty {
                for row in try await connection.rows(
                    "SELECT \(unescaped: Self.breakerColumns) FROM breaker WHERE endpoint_id = ANY(\(endpointIDs)) ORDER BY endpoint_id FOR UPDATE", logger) {
                    let breaker = try Self.breaker(row)
                    breakers[breaker.endpointID] = breaker
                }
                for row in try await connection.rows("SELECT id, enabled FROM endpoint WHERE id = ANY(\(endpointIDs))", logger) {
                    enabled[try row.get(0, as: String.self)] = try row.get(1, as: Bool.self)
                }
            }
            // The batch's deliveries, locked, in id order.
            var leases: [String: RecordingPlan.Lease] = [:]
            for row in try await connection.rows(
                "SELECT id, status, lease_owner FROM delivery WHERE id = ANY(\(results.map(\.delivery.id))) ORDER BY id FOR UPDATE", logger) {
                leases[try row.get(0, as: String.self)] = RecordingPlan.Lease(
                    status: try DeliveryStatus(stored: try row.get(1, as: String.self)), owner: try row.get(2, as: String?.self))
            }
            let lost = leases.filter { !$0.value.isHeld(by: owner) }.map(\.key)
            if !lost.isEmpty {
                for row in try await connection.rows("""
                    SELECT d.id FROM delivery d JOIN event e ON e.id = d.event_id WHERE d.id = ANY(\(lost)) AND e.redacted_at IS NOT NULL
                    """, logger) {
                    leases[try row.get(0, as: String.self)]?.redacted = true
                }
            }
            var recording = RecordingPlan(
                results, leases: leases, breakers: breakers, enabled: enabled, planner: planner, owner: owner, now: now)
            try await Self.apply(&recording, at: nowMs, on: connection, logger)
            var claimed = ClaimedBatch()
            if let plan { claimed = try await Self.claim(plan, now: now, leaseUntil: leaseUntil, owner: owner, on: connection, logger) }
            return RecordedBatch(recorded: recording.recorded, claimed: claimed)
        }
    }

    /// Writes a recording plan, in the order its fields give: all attempts in one statement and all
    /// delivery changes in another, a few round trips per batch, not a few per result.
    static func apply(_ recording: inout RecordingPlan, at nowMs: Int64, on connection: PostgresConnection, _ logger: Logger) async throws {
        if !recording.attempts.isEmpty {
            let rows = recording.attempts, attempts = rows.map(\.attempt)
            let errorClass = Nullable(attempts.map(\.errorClass))
            let errorMessage = Nullable(attempts.map(\.errorMessage))
            let excerpt = Nullable(attempts.map(\.responseExcerpt))
            try await connection.run("""
                INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code,
                                     error_class, error_message, response_excerpt)
                SELECT delivery_id, endpoint_id, number, trigger, started_at, duration_ms, nullif(status_code, '')::integer,
                       CASE WHEN class_null THEN NULL ELSE class END, CASE WHEN message_null THEN NULL ELSE message END,
                       CASE WHEN excerpt_null THEN NULL ELSE excerpt END
                FROM unnest(\(rows.map(\.deliveryID))::text[], \(rows.map(\.endpointID))::text[], \(attempts.map(\.number))::integer[],
                            \(attempts.map(\.trigger.rawValue))::text[], \(attempts.map { Self.millis($0.startedAt) })::bigint[],
                            \(attempts.map(\.durationMs))::integer[], \(attempts.map { $0.statusCode.map(String.init) ?? "" })::text[],
                            \(errorClass.values)::text[], \(errorClass.isNull)::boolean[], \(errorMessage.values)::text[],
                            \(errorMessage.isNull)::boolean[], \(excerpt.values)::text[], \(excerpt.isNull)::boolean[])
                     AS a(delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code, class, class_null,
                          message, message_null, excerpt, excerpt_null)
                """, logger)
        }
        if !recording.changes.isEmpty {
            let changes = recording.changes
            let errors = Nullable(changes.map(\.lastError))
            try await connection.run("""
                UPDATE delivery d SET status = u.status, attempts = d.attempts + 1, next_attempt_at = nullif(u.next, '')::bigint,
                                      lease_until = NULL, lease_owner = NULL, last_status_code = nullif(u.code, '')::integer,
                                      last_error = CASE WHEN u.error_null THEN NULL ELSE u.error END, manual = false, updated_at = \(nowMs)
                FROM unnest(\(changes.map(\.deliveryID))::text[], \(changes.map(\.status.rawValue))::text[],
                            \(changes.map { Self.millis($0.nextAttemptAt).map(String.init) ?? "" })::text[],
                            \(changes.map { $0.statusCode.map(String.init) ?? "" })::text[],
                            \(errors.values)::text[], \(errors.isNull)::boolean[]) AS u(id, status, next, code, error, error_null)
                WHERE d.id = u.id
                """, logger)
        }
        for disable in recording.disables {
            let held = try await Self.disableEndpoint(disable.endpointID, reason: disable.reason, at: nowMs, on: connection, logger)
            recording.counts.move(disable.endpointID, from: .pending, to: .held, held)
        }
        for (endpointID, until) in recording.deferrals {
            let untilMs = Self.millis(until)
            try await connection.run("""
                UPDATE delivery SET next_attempt_at = \(untilMs)
                WHERE endpoint_id = \(endpointID) AND status = 'pending' AND next_attempt_at < \(untilMs)
                """, logger)
        }
        for breaker in recording.breakers { try await Self.saveBreaker(breaker, on: connection, logger) }
        try await recording.counts.save(on: connection, logger)
    }

    /// Disables an endpoint and holds its pending deliveries; returns how many it held.
    static func disableEndpoint(_ id: String, reason: String, at nowMs: Int64, on connection: PostgresConnection, _ logger: Logger) async throws -> Int {
        try await connection.run(
            "UPDATE endpoint SET enabled = false, disabled_reason = \(reason), disabled_at = \(nowMs), updated_at = \(nowMs) WHERE id = \(id)", logger)
        let held = try await count(connection, logger,
            "UPDATE delivery SET status = 'held', next_attempt_at = NULL, updated_at = \(nowMs) WHERE endpoint_id = \(id) AND status = 'pending' RETURNING 1")
        try await insertAudit(AuditEntry(at: date(nowMs), actor: .system, action: "endpoint.disable", targetIDs: [id], detail: reason), on: connection, logger)
        return held
    }

    public func release(_ deliveryIDs: [String], nextAttemptAt: Date, owner: String) async throws(HooklineError) {
        guard !deliveryIDs.isEmpty else { return }
        let logger = self.logger
        let nextMs = Self.millis(nextAttemptAt)
        try await write { connection in
            // A disabled endpoint's deliveries are held, unless an operator asked for them.
            var counts = DeliveryCountChanges()
            for row in try await connection.rows("""
                UPDATE delivery d
                SET status = CASE WHEN e.enabled OR d.manual THEN 'pending' ELSE 'held' END,
                    next_attempt_at = \(nextMs), lease_until = NULL, lease_owner = NULL
                FROM endpoint e
                WHERE e.id = d.endpoint_id AND d.id = ANY(\(deliveryIDs)) AND d.status = 'sending' AND d.lease_owner = \(owner)
                RETURNING d.endpoint_id, d.status
                """, logger) {
                counts.move(try row.get(0, as: String.self), from: .sending, to: try DeliveryStatus(stored: try row.get(1, as: String.self)))
            }
            try await counts.save(on: connection, logger)
        }
    }

    public func recoverExpiredLeases(now: Date) async throws(HooklineError) -> Int {
        let logger = self.logger
        let nowMs = Self.millis(now)
        return try await write { connection in
            var counts = DeliveryCountChanges()
            let rows = try await connection.rows("""
                UPDATE delivery SET status = 'pending', next_attempt_at = \(nowMs), lease_until = NULL, lease_owner = NULL, updated_at = \(nowMs)
                WHERE status = 'sending' AND lease_until < \(nowMs) RETURNING endpoint_id
                """, logger)
            for row in rows { counts.move(try row.get(0, as: String.self), from: .sending, to: .pending) }
            try await counts.save(on: connection, logger)
            // Every dispatcher comes here every few seconds: a good moment to fold the counts' deltas.
            try await Self.foldCounts(connection, logger)
            return rows.count
        }
    }

    public func markProbe(endpointID: String, at now: Date, takeOverAfter: TimeInterval) async throws(HooklineError) -> Bool {
        let logger = self.logger
        let nowMs = Self.millis(now)
        let staleMs = Self.millis(now.addingTimeInterval(-takeOverAfter))
        return try await write { connection in
            try await Self.count(connection, logger, """
                UPDATE breaker SET state = 'half_open', updated_at = \(nowMs)
                WHERE endpoint_id = \(endpointID)
                  AND ((state = 'open' AND coalesce(next_probe_at, 0) <= \(nowMs)) OR (state = 'half_open' AND updated_at <= \(staleMs)))
                RETURNING 1
                """) == 1
        }
    }

    public func activeDeliveryCount() async throws(HooklineError) -> Int {
        let logger = self.logger
        return try await read { connection in
            let counts = try await Self.keptCounts(endpointID: nil, connection, logger)
            return (counts["pending"] ?? 0) + (counts["sending"] ?? 0)
        }
    }
}

/// A column of optional texts as two arrays PostgreSQL can take: the values and which are NULL.
struct Nullable {
    var values: [String]
    var isNull: [Bool]

    init(_ column: [String?]) {
        values = column.map { $0 ?? "" }
        isNull = column.map { $0 == nil }
    }
}
