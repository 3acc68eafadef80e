import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    public func stats(_ query: StatsQuery, now: Date) async throws(HooklineError) -> DeliveryStats {
        let logger = self.logger
        let sinceMs = Self.millis(query.since)
        let tenant = query.tenant
        return try await read { connection in
            var urls: [String: String] = [:]
            for row in try await connection.rows(
                "SELECT id, url FROM endpoint WHERE \(tenant)::text IS NULL OR tenant = \(tenant)", logger) {
                urls[try row.get(0, as: String.self)] = try row.get(1, as: String.self)
            }
            // The kept counts plus the deltas not folded in yet.
            var counts: [(endpointID: String, status: DeliveryStatus, count: Int)] = []
            for row in try await connection.rows("""
                SELECT endpoint_id, status, sum(n)::bigint FROM (
                    SELECT endpoint_id, status, n FROM delivery_count UNION ALL SELECT endpoint_id, status, n FROM delivery_count_delta
                ) c GROUP BY endpoint_id, status
                """, logger) {
                guard let status = DeliveryStatus(rawValue: try row.get(1, as: String.self)) else { continue }
                counts.append((try row.get(0, as: String.self), status, Int(try row.get(2, as: Int64.self))))
            }
            // Per endpoint and, in the row whose endpoint is null, over all of them.
            var perEndpoint: [String: AttemptFigures] = [:]
            var overall = AttemptFigures()
            for row in try await connection.rows("""
                SELECT endpoint_id, count(*), count(*) FILTER (WHERE status_code BETWEEN 200 AND 299),
                       (percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms))::bigint[]
                FROM attempt
                WHERE started_at >= \(sinceMs)
                  AND (\(tenant)::text IS NULL OR endpoint_id IN (SELECT id FROM endpoint WHERE tenant = \(tenant)))
                GROUP BY GROUPING SETS ((endpoint_id), ())
                """, logger) {
                let percentiles = try row.get(3, as: [Int64]?.self) ?? []
                let figures = AttemptFigures(
                    attempts: try row.get(1, as: Int.self), successes: try row.get(2, as: Int.self),
                    latency: percentiles.count == 3 ? LatencyPercentiles(p50: Int(percentiles[0]), p95: Int(percentiles[1]), p99: Int(percentiles[2])) : nil)
                if let endpointID = try row.get(0, as: String?.self) {
                    perEndpoint[endpointID] = figures
                } else {
                    overall = figures
                }
            }
            let breakers = try await connection.rows(
                "SELECT \(unescaped: Self.breakerColumns) FROM breaker WHERE state <> 'closed'", logger).map(Self.breaker)
            // Among the pending deliveries only (the partial index delivery_due_by_endpoint holds them).
            let oldest = try await connection.rows("""
                SELECT id, endpoint_id, created_at FROM delivery
                WHERE status = 'pending' AND (\(tenant)::text IS NULL OR endpoint_id IN (SELECT id FROM endpoint WHERE tenant = \(tenant)))
                ORDER BY created_at, id LIMIT 1
                """, logger).first.map { row in
                OldestPending(
                    deliveryID: try row.get(0, as: String.self), endpointID: try row.get(1, as: String.self),
                    createdAt: Self.date(try row.get(2, as: Int64.self)))
            }
            return DeliveryStats(
                query: query, until: now, counts: counts, perEndpoint: perEndpoint, overall: overall, breakers: breakers,
                oldestPending: oldest, urls: urls)
        }
    }
}
