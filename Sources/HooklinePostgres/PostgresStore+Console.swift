import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    // MARK: Breakers and redelivery

    public func breakers() async throws(HooklineError) -> [CircuitBreaker] {
        let logger = self.logger
        return try await read { connection in try await Self.fetchBreakers(connection, logger) }
    }

    public func breakers(endpointIDs: [String], orNotClosed: Bool) async throws(HooklineError) -> [CircuitBreaker] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.breakerColumns) FROM breaker
                WHERE endpoint_id = ANY(\(endpointIDs)) OR (\(orNotClosed) AND state <> 'closed')
                ORDER BY endpoint_id
                """, logger).map(Self.breaker)
        }
    }

    static func fetchBreakers(_ connection: PostgresConnection, _ logger: Logger) async throws -> [CircuitBreaker] {
        try await connection.rows("SELECT \(unescaped: breakerColumns) FROM breaker ORDER BY endpoint_id", logger).map(breaker)
    }

    public func resetBreaker(endpointID: String, at now: Date, audit: AuditEntry) async throws(HooklineError) -> CircuitBreaker {
        let logger = self.logger
        let nowMs = Self.millis(now)
        return try await write { connection in
            guard try await self.fetchEndpoint(endpointID, on: connection) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: endpointID)
            }
            let previous = try await connection.rows(
                "SELECT \(unescaped: Self.breakerColumns) FROM breaker WHERE endpoint_id = \(endpointID) FOR UPDATE", logger
            ).first.map(Self.breaker)
            let reset = BreakerResetPlan(endpointID: endpointID, previous: previous, at: now, audit: audit)
            try await Self.saveBreaker(reset.breaker, on: connection, logger)
            if let through = reset.dueAgainThrough {
                try await connection.run("""
                    UPDATE delivery SET next_attempt_at = \(nowMs)
                    WHERE endpoint_id = \(endpointID) AND status = 'pending' AND next_attempt_at > \(nowMs) AND next_attempt_at <= \(Self.millis(through))
                    """, logger)
            }
            try await Self.insertAudit(reset.audit, on: connection, logger)
            return reset.breaker
        }
    }

    public func redeliver(_ deliveryIDs: [String], onlyIfStatus: DeliveryStatus?, at now: Date, audit: AuditEntry) async throws(HooklineError) -> RedeliveryResult {
        let logger = self.logger
        let nowMs = Self.millis(now)
        return try await write { connection in
            var current: [String: RedeliveryPlan.Current] = [:]
            for row in try await connection.rows(
                """
                SELECT d.id, d.status, d.endpoint_id, e.redacted_at IS NOT NULL FROM delivery d JOIN event e ON e.id = d.event_id
                WHERE d.id = ANY(\(deliveryIDs)) ORDER BY d.id FOR UPDATE OF d
                """, logger) {
                current[try row.get(0, as: String.self)] = RedeliveryPlan.Current(
                    status: try DeliveryStatus(stored: try row.get(1, as: String.self)), endpointID: try row.get(2, as: String.self),
                    redacted: try row.get(3, as: Bool.self))
            }
            let plan = RedeliveryPlan(deliveryIDs, current: current, onlyIfStatus: onlyIfStatus, audit: audit)
            if !plan.requeue.isEmpty {
                try await connection.run("""
                    UPDATE delivery SET status = 'pending', next_attempt_at = \(nowMs), manual = true, updated_at = \(nowMs)
                    WHERE id = ANY(\(plan.requeue))
                    """, logger)
            }
            try await plan.counts.save(on: connection, logger)
            if let entry = plan.audit { try await Self.insertAudit(entry, on: connection, logger) }
            return plan.result
        }
    }

    public func failedDeliveryIDs(endpointID: String, since: Date?) async throws(HooklineError) -> [String] {
        let logger = self.logger
        let sinceMs = Self.millis(since) ?? 0
        return try await read { connection in
            try await connection.rows("""
                SELECT id FROM delivery WHERE endpoint_id = \(endpointID) AND status = 'failed' AND updated_at >= \(sinceMs)
                ORDER BY updated_at, id
                """, logger).map { try $0.get(0, as: String.self) }
        }
    }

    public func endpointStats(since: Date) async throws(HooklineError) -> [String: EndpointStats] {
        let logger = self.logger
        let sinceMs = Self.millis(since)
        return try await read { connection in try await Self.fetchEndpointStats(sinceMs, connection, logger) }
    }

    static func fetchEndpointStats(_ sinceMs: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String: EndpointStats] {
        var stats: [String: EndpointStats] = [:]
        for row in try await connection.rows("""
            SELECT endpoint_id, count(*), count(*) FILTER (WHERE status_code BETWEEN 200 AND 299),
                   percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms)
            FROM attempt WHERE started_at >= \(sinceMs) GROUP BY endpoint_id
            """, logger) {
            stats[try row.get(0)] = EndpointStats(
                attempts: try row.get(1, as: Int.self), successes: try row.get(2, as: Int.self), p95LatencyMs: try row.get(3, as: Int?.self))
        }
        return stats
    }

    // MARK: Console

    public func deliveryCounts() async throws(HooklineError) -> DeliveryCounts {
        let logger = self.logger
        return try await read { connection in try await Self.fetchCounts(connection, logger) }
    }

    /// The kept counts and the deltas appended since the last fold: a few key lookups and a short scan.
    static func fetchCounts(_ connection: PostgresConnection, _ logger: Logger) async throws -> DeliveryCounts {
        let counts = try await keptCounts(endpointID: nil, connection, logger)
        return DeliveryCounts(pending: counts["pending"] ?? 0, failed: counts["failed"] ?? 0, held: counts["held"] ?? 0)
    }

    public func recentAttempts(endpointID: String, limit: Int) async throws(HooklineError) -> [Attempt] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows(
                "SELECT \(unescaped: Self.attemptColumns) FROM attempt WHERE endpoint_id = \(endpointID) ORDER BY started_at DESC LIMIT \(limit)", logger
            ).map(Self.attempt)
        }
    }

    /// Attempts and successes per `bucketMs` since `sinceMs`, oldest first.
    static func fetchActivity(sinceMs: Int64, bucketMs: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> [ActivityBucket] {
        try await connection.rows("""
            SELECT started_at / \(bucketMs) AS bucket, count(*), count(*) FILTER (WHERE status_code BETWEEN 200 AND 299)
            FROM attempt WHERE started_at >= \(sinceMs) GROUP BY bucket ORDER BY bucket
            """, logger).map {
            ActivityBucket(start: Self.date(try $0.get(0, as: Int64.self) * bucketMs), attempts: try $0.get(1, as: Int.self), successes: try $0.get(2, as: Int.self))
        }
    }

    /// Whether `tenant` has at most ``HooklineStore/mergedEndpointsLimit`` endpoints: the console
    /// then reads each one's newest rows with a LATERAL seek instead of walking every tenant's.
    static func hasFewEndpoints(_ tenant: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        let count = try await connection.rows(
            "SELECT count(*) FROM (SELECT 1 FROM endpoint WHERE tenant = \(tenant) LIMIT \(Self.mergedEndpointsLimit + 1)) few", logger)
            .first.map { try $0.get(0, as: Int.self) } ?? 0
        return count <= Self.mergedEndpointsLimit
    }

    /// The newest failed deliveries updated since `sinceMs`, merged per endpoint for a tenant of few.
    static func fetchFailed(limit: Int, tenant: String?, sinceMs: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws -> [DeliveryRow] {
        let columns = Self.deliveryColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        let decode = { (row: PostgresRandomAccessRow) throws -> DeliveryRow in
            DeliveryRow(delivery: try Self.delivery(row), eventType: try row.get(11), tenant: try row.get(12))
        }
        if let tenant, try await hasFewEndpoints(tenant, connection, logger) {
            return try await connection.rows("""
                SELECT x.* FROM endpoint ep CROSS JOIN LATERAL (
                    SELECT \(unescaped: columns), e.type, e.tenant
                    FROM delivery d JOIN event e ON e.id = d.event_id
                    WHERE d.endpoint_id = ep.id AND d.status = 'failed' AND d.updated_at >= \(sinceMs)
                    ORDER BY d.updated_at DESC LIMIT \(limit)
                ) x
                WHERE ep.tenant = \(tenant)
                ORDER BY x.updated_at DESC LIMIT \(limit)
                """, logger).map(decode)
        }
        // An event's tenant is its endpoints' (fan-out is by tenant), so the event row says it.
        return try await connection.rows("""
            SELECT \(unescaped: columns), e.type, e.tenant
            FROM delivery d JOIN event e ON e.id = d.event_id
            WHERE d.status = 'failed' AND (\(tenant)::text IS NULL OR e.tenant = \(tenant)) AND d.updated_at >= \(sinceMs)
            ORDER BY d.updated_at DESC LIMIT \(limit)
            """, logger).map(decode)
    }

    /// The newest attempts since `sinceMs`, newest first; a tenant of at most
    /// ``HooklineStore/mergedEndpointsLimit`` endpoints has them merged from each endpoint's newest
    /// (a LATERAL seek on `attempt_by_endpoint` each), as the SQLite store does.
    static func fetchAttemptRows(limit: Int, sinceMs: Int64, tenant: String?, _ connection: PostgresConnection, _ logger: Logger) async throws -> [AttemptRow] {
        guard limit > 0 else { return [] }
        let decode = { (row: PostgresRandomAccessRow) throws -> AttemptRow in
            AttemptRow(attempt: try Self.attempt(row), endpointID: try row.get(9), eventID: try row.get(10), eventType: try row.get(11), tenant: try row.get(12))
        }
        if let tenant, try await hasFewEndpoints(tenant, connection, logger) {
            return try await connection.rows("""
                SELECT x.* FROM endpoint ep CROSS JOIN LATERAL (
                    SELECT a.delivery_id, a.number, a.trigger, a.started_at, a.duration_ms, a.status_code, a.error_class, a.error_message, NULL::text,
                           a.endpoint_id, d.event_id, e.type, e.tenant
                    FROM attempt a JOIN delivery d ON d.id = a.delivery_id JOIN event e ON e.id = d.event_id
                    WHERE a.endpoint_id = ep.id AND a.started_at >= \(sinceMs)
                    ORDER BY a.started_at DESC LIMIT \(limit)
                ) x
                WHERE ep.tenant = \(tenant)
                ORDER BY x.started_at DESC LIMIT \(limit)
                """, logger).map(decode)
        }
        return try await connection.rows("""
            SELECT a.delivery_id, a.number, a.trigger, a.started_at, a.duration_ms, a.status_code, a.error_class, a.error_message, NULL::text,
                   a.endpoint_id, d.event_id, e.type, e.tenant
            FROM attempt a JOIN delivery d ON d.id = a.delivery_id JOIN event e ON e.id = d.event_id
            WHERE a.started_at >= \(sinceMs) AND (\(tenant)::text IS NULL OR e.tenant = \(tenant))
            ORDER BY a.started_at DESC LIMIT \(limit)
            """, logger).map(decode)
    }

    public func consoleFrame(_ query: ConsoleFrameQuery) async throws(HooklineError) -> ConsoleFrame {
        let logger = self.logger
        let sinceMs = Self.millis(query.statsSince)
        let recentMs = Self.millis(query.recentSince) ?? Int64.min
        let window = query.endpoints
        let tenant = window.tenant
        return try await read { connection in
            let failed = try await Self.fetchFailed(limit: query.failedLimit, tenant: tenant, sinceMs: recentMs, connection, logger)
            let throughput = try await Self.fetchActivity(sinceMs: sinceMs, bucketMs: 60_000, connection, logger)
            var perSecond: [ActivityBucket] = []
            if let secondsSince = query.secondsSince {
                perSecond = try await Self.fetchActivity(sinceMs: Self.millis(secondsSince), bucketMs: 1000, connection, logger)
            }
            let size = try await connection.rows("SELECT pg_database_size(current_database())", logger).first?.get(0, as: Int64.self) ?? 0
            let stats = try await Self.fetchEndpointStats(sinceMs, connection, logger)
            let notClosed = try await connection.rows("""
                SELECT \(unescaped: Self.breakerColumns) FROM breaker WHERE state <> 'closed'
                  AND (\(tenant)::text IS NULL OR endpoint_id IN (SELECT id FROM endpoint WHERE tenant = \(tenant)))
                """, logger).map(Self.breaker)
            let attention = EndpointWindow.attention(breakers: notClosed, stats: stats, failed: failed)
            // Endpoints failing in the last hour are found among every tenant's: keep the scope's.
            let found = try await connection.rows("""
                SELECT \(unescaped: Self.endpointColumns) FROM endpoint
                WHERE id = ANY(\(attention)) AND (\(tenant)::text IS NULL OR tenant = \(tenant))
                """, logger).map(self.endpoint)
            let byID = Dictionary(uniqueKeysWithValues: found.map { ($0.id, $0) })
            var endpoints = attention.compactMap { byID[$0] }
            let room = window.limit - endpoints.count
            if room > 0 {
                endpoints += try await connection.rows("""
                    SELECT \(unescaped: Self.endpointColumns) FROM endpoint
                    WHERE id <> ALL(\(attention)) AND (\(tenant)::text IS NULL OR tenant = \(tenant))
                      AND (\(window.filter)::text IS NULL OR strpos(lower(id), \(window.filter)::text) > 0
                           OR strpos(lower(url), \(window.filter)::text) > 0 OR strpos(lower(description), \(window.filter)::text) > 0)
                    ORDER BY id LIMIT \(room)
                    """, logger).map(self.endpoint)
            }
            let breakers = try await connection.rows("""
                SELECT \(unescaped: Self.breakerColumns) FROM breaker
                WHERE endpoint_id = ANY(\(notClosed.map(\.endpointID) + endpoints.map(\.id)))
                """, logger).map(Self.breaker)
            let total = try await connection.rows(
                "SELECT count(*) FROM endpoint WHERE \(tenant)::text IS NULL OR tenant = \(tenant)", logger).first?.get(0, as: Int.self) ?? 0
            let tenants = try await connection.rows("SELECT count(*) FROM tenant", logger).first?.get(0, as: Int.self) ?? 1
            return ConsoleFrame(
                endpoints: endpoints, endpointTotal: total, breakers: breakers, stats: stats,
                events: try await Self.fetchEvents(EventQuery(tenant: tenant, since: query.recentSince, limit: query.eventsLimit), on: connection, logger),
                failed: failed, throughput: throughput,
                perSecond: perSecond,
                attempts: try await Self.fetchAttemptRows(
                    limit: query.attemptsLimit, sinceMs: Self.millis(query.attemptsSince), tenant: tenant, connection, logger),
                counts: try await Self.fetchCounts(connection, logger),
                storage: StorageSize(bytes: size, reusableBytes: 0), tenantCount: tenants)
        }
    }

    public func changeToken() async throws(HooklineError) -> Int64 {
        // The write-ahead log's position moves with every commit, by any node: one function call,
        // no table read. (Other writes, such as vacuum, move it too: a refresh too many, never one too few.)
        do {
            return try await client.withConnection { connection in
                try await connection.rows("""
                    SELECT ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - '0/0'::pg_lsn)::bigint
                    """, self.logger).first?.get(0, as: Int64.self) ?? 0
            }
        } catch {
            throw map(error)
        }
    }

    // MARK: Test sends and retention

    public func recordTestSend(_ send: TestSend, audit: AuditEntry) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in
            guard try await self.fetchEndpoint(send.endpointID, on: connection) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: send.endpointID)
            }
            try await connection.run("""
                INSERT INTO test_attempt (endpoint_id, event_id, event_type, started_at, duration_ms, status_code, error_class, error_message, response_excerpt)
                VALUES (\(send.endpointID), \(send.eventID), \(send.eventType), \(Self.millis(send.startedAt)), \(send.durationMs), \(send.statusCode),
                        \(send.errorClass), \(send.errorMessage), \(send.responseExcerpt))
                """, logger)
            try await Self.insertAudit(audit, on: connection, logger)
        }
    }

    public func testSends(endpointID: String, limit: Int) async throws(HooklineError) -> [TestSend] {
        let logger = self.logger
        return try await read { connection in
            try await connection.rows("""
                SELECT endpoint_id, event_id, event_type, started_at, duration_ms, status_code, error_class, error_message, response_excerpt
                FROM test_attempt WHERE endpoint_id = \(endpointID) ORDER BY started_at DESC, id DESC LIMIT \(limit)
                """, logger).map {
                TestSend(
                    endpointID: try $0.get(0), eventID: try $0.get(1), eventType: try $0.get(2), startedAt: Self.date(try $0.get(3, as: Int64.self)),
                    durationMs: try $0.get(4), statusCode: try $0.get(5), errorClass: try $0.get(6), errorMessage: try $0.get(7),
                    responseExcerpt: try $0.get(8))
            }
        }
    }

    public func prune(_ rule: PruneRule, after cursor: PruneCursor?, limit: Int, dryRun: Bool) async throws(HooklineError) -> PruneStep {
        let logger = self.logger
        let cutoff = Self.millis(rule.cutoff)
        let removable = rule.removableStatuses.map(\.rawValue)
        let body: @Sendable (PostgresConnection) async throws -> PruneStep = { connection in
            var counts = PruneCounts()
            if cursor == nil {
                counts.testSends = try await connection.rows("SELECT count(*) FROM test_attempt WHERE started_at < \(cutoff)", logger).first?.get(0, as: Int.self) ?? 0
                if !dryRun && counts.testSends > 0 {
                    try await connection.run("DELETE FROM test_attempt WHERE started_at < \(cutoff)", logger)
                }
            }
            let afterAt = cursor.map { Self.millis($0.createdAt) } ?? Int64.min
            let afterID = cursor?.eventID ?? ""
            let scanned = try await connection.rows("""
                SELECT id, created_at FROM event WHERE created_at < \(cutoff) AND (created_at, id) > (\(afterAt), \(afterID))
                ORDER BY created_at, id LIMIT \(limit)
                """, logger).map { (id: try $0.get(0, as: String.self), createdAt: try $0.get(1, as: Int64.self)) }
            guard let last = scanned.last else { return PruneStep(counts: counts, next: nil) }
            let next = scanned.count < limit ? nil : PruneCursor(createdAt: Self.date(last.createdAt), eventID: last.id)
            let ids = scanned.map(\.id)
            let blocked = Set(try await connection.rows(
                "SELECT DISTINCT event_id FROM delivery WHERE event_id = ANY(\(ids)) AND NOT (status = ANY(\(removable)))", logger
            ).map { try $0.get(0, as: String.self) })
            let doomed = ids.filter { !blocked.contains($0) }
            counts.keptEvents = blocked.count
            counts.events = doomed.count
            guard !doomed.isEmpty else { return PruneStep(counts: counts, next: next) }
            var changes = DeliveryCountChanges()
            for row in try await connection.rows(
                "SELECT endpoint_id, status, count(*) FROM delivery WHERE event_id = ANY(\(doomed)) GROUP BY endpoint_id, status", logger) {
                let n = try row.get(2, as: Int.self)
                counts.deliveries += n
                if let status = DeliveryStatus(rawValue: try row.get(1, as: String.self)) { changes.add(try row.get(0, as: String.self), status, -n) }
            }
            counts.attempts = try await connection.rows(
                "SELECT count(*) FROM attempt WHERE delivery_id IN (SELECT id FROM delivery WHERE event_id = ANY(\(doomed)))", logger
            ).first?.get(0, as: Int.self) ?? 0
            if !dryRun {
                try await connection.run("DELETE FROM event WHERE id = ANY(\(doomed))", logger)
                try await changes.save(on: connection, logger)
            }
            return PruneStep(counts: counts, next: next)
        }
        return dryRun ? try await read(body) : try await write(body)
    }

    /// PostgreSQL's autovacuum makes freed space reusable; giving it back to the file system would
    /// need `VACUUM FULL`, which locks the tables: not done here.
    public func reclaimSpace(maximumBytes: Int64) async throws(HooklineError) -> ReclaimStep? {
        nil
    }
}
