import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func stats(_ query: StatsQuery, now: Date) async throws(HooklineError) -> DeliveryStats {
        let sinceMs = Self.millis(query.since)
        return try await read { db in
            let urls = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db, sql: "SELECT id, url FROM endpoint WHERE ? IS NULL OR tenant = ?", arguments: [query.tenant, query.tenant]
                ).map { ($0[0] as String, $0[1] as String) })
            // The kept counts: one row per endpoint and status, however many deliveries there are.
            let counts = try Row.fetchAll(db, sql: "SELECT endpoint_id, status, n FROM delivery_count WHERE n != 0").compactMap { row in
                DeliveryStatus(rawValue: row[1]).map { (endpointID: row[0] as String, status: $0, count: row[2] as Int) }
            }
            // One walk of the window's attempts through the index that covers these columns.
            var durations: [String: (durations: [Int], successes: Int)] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT endpoint_id, status_code, duration_ms FROM attempt INDEXED BY attempt_by_started WHERE started_at >= ?",
                arguments: [sinceMs])
            while let row = try rows.next() {
                let endpointID: String = row[0]
                guard urls[endpointID] != nil else { continue }
                let status: Int? = row[1]
                durations[endpointID, default: ([], 0)].durations.append(row[2])
                if let status, (200...299).contains(status) { durations[endpointID]?.successes += 1 }
            }
            let perEndpoint = durations.mapValues {
                AttemptFigures(attempts: $0.durations.count, successes: $0.successes, latency: LatencyPercentiles($0.durations))
            }
            let all = durations.values.flatMap(\.durations)
            let overall = AttemptFigures(
                attempts: all.count, successes: durations.values.reduce(0) { $0 + $1.successes }, latency: LatencyPercentiles(all))
            let breakers = try Row.fetchAll(
                db, sql: "SELECT \(Self.breakerColumns) FROM breaker INDEXED BY breaker_not_closed WHERE state != 'closed'"
            ).map(Self.breaker)
            return DeliveryStats(
                query: query, until: now, counts: counts, perEndpoint: perEndpoint, overall: overall, breakers: breakers,
                oldestPending: try Self.fetchOldestPending(db, tenant: query.tenant), urls: urls)
        }
    }

    /// The pending delivery created first, found among the pending ones only (the partial index
    /// `delivery_due_by_endpoint` holds them), never by walking every delivery ever made.
    static func fetchOldestPending(_ db: Database, tenant: String?) throws -> OldestPending? {
        let row = try Row.fetchOne(
            db, sql: """
                SELECT d.id, d.endpoint_id, d.created_at FROM delivery d INDEXED BY delivery_due_by_endpoint
                WHERE d.status = 'pending' AND (? IS NULL OR d.endpoint_id IN (SELECT id FROM endpoint WHERE tenant = ?))
                ORDER BY d.created_at, d.id LIMIT 1
                """, arguments: [tenant, tenant])
        return row.map { OldestPending(deliveryID: $0[0], endpointID: $0[1], createdAt: Self.date($0[2] as Int64)) }
    }
}
