import Foundation
import GRDB

extension SQLiteStore {
    static func fetchFailed(_ db: Database, limit: Int) throws -> [DeliveryRow] {
        let columns = Self.deliveryColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        return try Row.fetchAll(
            db,
            sql: """
                SELECT \(columns), e.type AS event_type
                FROM delivery d JOIN event e ON e.id = d.event_id
                WHERE d.status = 'failed' ORDER BY d.updated_at DESC LIMIT ?
                """,
            arguments: [limit]
        ).map { DeliveryRow(delivery: Self.delivery($0), eventType: $0["event_type"]) }
    }

    static func fetchThroughput(_ db: Database, sinceMs: Int64) throws -> [MinuteBucket] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT started_at / 60000 AS minute, count(*) AS attempts,
                       sum(CASE WHEN status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END) AS successes
                FROM attempt INDEXED BY attempt_by_started WHERE started_at >= ? GROUP BY minute ORDER BY minute
                """,
            arguments: [sinceMs]
        ).map {
            let minute: Int64 = $0["minute"]
            return MinuteBucket(minute: Self.date(minute * 60_000), attempts: $0["attempts"], successes: $0["successes"])
        }
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

    public func consoleFrame(eventsLimit: Int, failedLimit: Int, since: Date) async throws(HooklineError) -> ConsoleFrame {
        let sinceMs = Self.millis(since)
        return try await read { db in
            ConsoleFrame(
                endpoints: try Self.fetchEndpoints(db, secrets: self.secrets), breakers: try Self.fetchBreakers(db),
                stats: try Self.fetchEndpointStats(db, sinceMs: sinceMs),
                events: try Self.fetchEvents(db, EventQuery(limit: eventsLimit)),
                failed: try Self.fetchFailed(db, limit: failedLimit),
                throughput: try Self.fetchThroughput(db, sinceMs: sinceMs), counts: try Self.fetchCounts(db),
                storage: try Self.fetchStorage(db))
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
