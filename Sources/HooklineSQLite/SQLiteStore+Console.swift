import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    /// The endpoints of `tenant` when it has at most ``HooklineStore/mergedEndpointsLimit`` (the
    /// console then reads each one's newest rows with a seek and merges them), else nil.
    static func fewEndpoints(_ db: Database, of tenant: String?) throws -> [String]? {
        guard let tenant else { return nil }
        let ids = try String.fetchAll(db, sql: "SELECT id FROM endpoint WHERE tenant = ? LIMIT ?", arguments: [tenant, Self.mergedEndpointsLimit + 1])
        return ids.count <= Self.mergedEndpointsLimit ? ids : nil
    }

    /// Runs `newest` (arguments: endpoint id, since, limit) for each endpoint and keeps the `limit`
    /// newest rows of them all by `time`.
    static func mergedNewest<Item>(
        _ newest: Statement, endpoints: [String], sinceMs: Int64, limit: Int, decode: (Row) throws -> Item, time: (Item) -> Date
    ) throws -> [Item] {
        var rows: [Item] = []
        for id in endpoints { rows += try Row.fetchAll(newest, arguments: [id, sinceMs, limit]).map(decode) }
        return Array(rows.sorted { time($0) > time($1) }.prefix(limit))
    }

    /// The newest failed deliveries (of `tenant`, when given) updated since `sinceMs`. A tenant of
    /// few endpoints has them merged from each endpoint's (a seek on `delivery_failed_by_endpoint` each),
    /// so that a tenant with no failures beside 40,000 others' reads none of those.
    static func fetchFailed(_ db: Database, limit: Int, tenant: String?, sinceMs: Int64? = nil) throws -> [DeliveryRow] {
        let columns = Self.deliveryColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        let decode = { (row: Row) in DeliveryRow(delivery: try Self.delivery(row), eventType: row["event_type"], tenant: row["tenant"]) }
        if let endpointIDs = try fewEndpoints(db, of: tenant) {
            let newest = try db.cachedStatement(sql: """
                SELECT \(columns), e.type AS event_type, e.tenant AS tenant
                FROM delivery d INDEXED BY delivery_failed_by_endpoint JOIN event e ON e.id = d.event_id
                WHERE d.endpoint_id = ? AND d.status = 'failed' AND d.updated_at >= ? ORDER BY d.updated_at DESC LIMIT ?
                """)
            return try mergedNewest(newest, endpoints: endpointIDs, sinceMs: sinceMs ?? Int64.min, limit: limit, decode: decode, time: \.delivery.updatedAt)
        }
        // An event's tenant is its endpoints' (fan-out is by tenant), so the event row says it.
        return try Row.fetchAll(
            db,
            sql: """
                SELECT \(columns), e.type AS event_type, e.tenant AS tenant
                FROM delivery d JOIN event e ON e.id = d.event_id
                WHERE d.status = 'failed' AND (? IS NULL OR e.tenant = ?) AND d.updated_at >= ? ORDER BY d.updated_at DESC LIMIT ?
                """,
            arguments: [tenant, tenant, sinceMs ?? Int64.min, limit]
        ).map(decode)
    }

    /// Attempts and successes per `bucketMs` since `sinceMs`, oldest first.
    static func fetchActivity(_ db: Database, sinceMs: Int64, bucketMs: Int64) throws -> [ActivityBucket] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT started_at / ? AS bucket, count(*) AS attempts,
                       sum(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END) AS successes
                FROM attempt INDEXED BY attempt_by_started WHERE started_at >= ? GROUP BY bucket ORDER BY bucket
                """,
            arguments: [bucketMs, sinceMs]
        ).map {
            let bucket: Int64 = $0["bucket"]
            return ActivityBucket(start: Self.date(bucket * bucketMs), attempts: $0["attempts"], successes: $0["successes"])
        }
    }

    /// The newest attempts since `sinceMs`, newest first, with their event and tenant. A tenant of
    /// at most ``HooklineStore/mergedEndpointsLimit`` endpoints has them merged from each endpoint's
    /// newest (a seek on `attempt_by_endpoint` each), so a quiet tenant beside busy ones costs what
    /// its screenful does; otherwise the newest of every tenant are walked and filtered.
    static func fetchAttemptRows(_ db: Database, limit: Int, sinceMs: Int64, tenant: String?) throws -> [AttemptRow] {
        guard limit > 0 else { return [] }
        // The view shows no response body: leave the excerpts (up to 16 KiB each) unread.
        let columns = Self.attemptColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0 == "response_excerpt" ? "NULL AS response_excerpt" : "a." + $0 }.joined(separator: ", ")
        let select = "SELECT \(columns), a.endpoint_id AS endpoint_id, d.event_id AS event_id, e.type AS event_type, e.tenant AS tenant"
        let decode = { (row: Row) in
            AttemptRow(attempt: Self.attempt(row), endpointID: row["endpoint_id"], eventID: row["event_id"], eventType: row["event_type"], tenant: row["tenant"])
        }
        if let endpointIDs = try fewEndpoints(db, of: tenant) {
            let newest = try db.cachedStatement(sql: """
                \(select)
                FROM attempt a INDEXED BY attempt_by_endpoint
                JOIN delivery d ON d.id = a.delivery_id JOIN event e ON e.id = d.event_id
                WHERE a.endpoint_id = ? AND a.started_at >= ?
                ORDER BY a.started_at DESC LIMIT ?
                """)
            return try mergedNewest(newest, endpoints: endpointIDs, sinceMs: sinceMs, limit: limit, decode: decode, time: \.attempt.startedAt)
        }
        return try Row.fetchAll(
            db,
            sql: """
                \(select)
                FROM attempt a INDEXED BY attempt_by_started
                JOIN delivery d ON d.id = a.delivery_id JOIN event e ON e.id = d.event_id
                WHERE a.started_at >= ? AND (? IS NULL OR e.tenant = ?)
                ORDER BY a.started_at DESC LIMIT ?
                """,
            arguments: [sinceMs, tenant, tenant, limit]
        ).map(decode)
    }

    public func deliveryCounts() async throws(HooklineError) -> DeliveryCounts {
        try await read { db in try Self.fetchCounts(db) }
    }

    static func fetchCounts(_ db: Database) throws -> DeliveryCounts {
        // Kept per endpoint and status by every transaction that changes deliveries.
        let totals = try Dictionary(
            uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT status, sum(n) FROM delivery_count GROUP BY status").map { ($0[0] as String, $0[1] as Int) })
        return DeliveryCounts(pending: totals["pending"] ?? 0, failed: totals["failed"] ?? 0, held: totals["held"] ?? 0)
    }

    public func consoleFrame(_ query: ConsoleFrameQuery) async throws(HooklineError) -> ConsoleFrame {
        let sinceMs = Self.millis(query.statsSince)
        let recentMs = Self.millis(query.recentSince)
        let window = query.endpoints
        return try await read { db in
            let stats = try Self.fetchEndpointStats(db, sinceMs: sinceMs)
            let tenant = window.tenant
            let failed = try Self.fetchFailed(db, limit: query.failedLimit, tenant: tenant, sinceMs: recentMs)
            // Through breaker_not_closed: the breakers that need an operator, however many endpoints exist.
            let notClosed = try Row.fetchAll(
                db, sql: """
                    SELECT \(Self.breakerColumns.split(separator: ",").map { "b." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                    FROM breaker b WHERE b.state != 'closed'
                      AND (? IS NULL OR b.endpoint_id IN (SELECT id FROM endpoint WHERE tenant = ?))
                    """, arguments: [tenant, tenant]).map(Self.breaker)
            let attention = EndpointWindow.attention(breakers: notClosed, stats: stats, failed: failed)
            let fetch = try db.cachedStatement(sql: "SELECT \(Self.endpointColumns) FROM endpoint WHERE id = ?")
            // Endpoints failing in the last hour are found among every tenant's: keep the scope's.
            var endpoints = try attention.compactMap { id in
                try Row.fetchOne(fetch, arguments: [id]).map { try Self.endpoint($0, secrets: self.secrets) }
            }.filter { tenant == nil || $0.tenant == tenant }
            let room = window.limit - endpoints.count
            if room > 0 {
                var sql = "SELECT \(Self.endpointColumns) FROM endpoint"
                var clauses: [String] = []
                var arguments: StatementArguments = []
                if !attention.isEmpty {
                    clauses.append("id NOT IN (\(Array(repeating: "?", count: attention.count).joined(separator: ", ")))")
                    arguments += StatementArguments(attention)
                }
                if let filter = window.filter {
                    clauses.append("(instr(lower(id), ?) > 0 OR instr(lower(url), ?) > 0 OR instr(lower(description), ?) > 0)")
                    arguments += [filter, filter, filter]
                }
                if let tenant {
                    clauses.append("tenant = ?")
                    arguments += [tenant]
                }
                if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
                sql += " ORDER BY id LIMIT ?"
                arguments += [room]
                endpoints += try Row.fetchAll(db, sql: sql, arguments: arguments).map { try Self.endpoint($0, secrets: self.secrets) }
            }
            var breakers = Dictionary(uniqueKeysWithValues: notClosed.map { ($0.endpointID, $0) })
            for endpoint in endpoints where breakers[endpoint.id] == nil {
                if let breaker = try Self.fetchBreaker(db, endpointID: endpoint.id) { breakers[endpoint.id] = breaker }
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM endpoint WHERE ? IS NULL OR tenant = ?", arguments: [tenant, tenant]) ?? 0
            return ConsoleFrame(
                endpoints: endpoints, endpointTotal: total,
                breakers: Array(breakers.values), stats: stats,
                events: try Self.fetchEvents(db, EventQuery(tenant: tenant, since: query.recentSince, limit: query.eventsLimit)), failed: failed,
                throughput: try Self.fetchActivity(db, sinceMs: sinceMs, bucketMs: 60_000),
                perSecond: try query.secondsSince.map { try Self.fetchActivity(db, sinceMs: Self.millis($0), bucketMs: 1000) } ?? [],
                attempts: try Self.fetchAttemptRows(db, limit: query.attemptsLimit, sinceMs: Self.millis(query.attemptsSince), tenant: tenant),
                counts: try Self.fetchCounts(db),
                storage: try Self.fetchStorage(db), tenantCount: try Int.fetchOne(db, sql: "SELECT count(*) FROM tenant") ?? 1)
        }
    }

    public func recentAttempts(endpointID: String, limit: Int) async throws(HooklineError) -> [Attempt] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Self.attemptColumns) FROM attempt WHERE endpoint_id = ? ORDER BY started_at DESC LIMIT ?",
                arguments: [endpointID, limit]
            ).map(Self.attempt)
        }
    }

    public func changeToken() async throws(HooklineError) -> Int64 {
        // data_version changes on a connection when another connection commits; one dedicated
        // connection keeps the counter meaningful across calls.
        do {
            return try await changeWatcher.read { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        } catch {
            throw Self.map(error, path: location)
        }
    }
}
