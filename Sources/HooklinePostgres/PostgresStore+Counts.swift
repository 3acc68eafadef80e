import Foundation
import HooklineCore
import PostgresNIO

extension DeliveryCountChanges {
    /// Appends the changes to `delivery_count_delta`, inside the transaction that made them: an
    /// insert, never an update of a row other transactions need.
    func save(on connection: PostgresConnection, _ logger: Logger) async throws {
        let entries = self.entries
        guard !entries.isEmpty else { return }
        try await connection.run("""
            INSERT INTO delivery_count_delta (endpoint_id, status, n)
            SELECT * FROM unnest(\(entries.map(\.endpointID))::text[], \(entries.map(\.status.rawValue))::text[], \(entries.map { Int64($0.delta) })::bigint[])
            """, logger)
    }
}

extension PostgresStore {
    /// The kept counts plus the deltas not folded in yet, per status (optionally for one endpoint).
    static func keptCounts(endpointID: String?, _ connection: PostgresConnection, _ logger: Logger) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await connection.rows("""
            SELECT status, sum(n)::bigint FROM (
                SELECT status, n FROM delivery_count WHERE \(endpointID)::text IS NULL OR endpoint_id = \(endpointID)
                UNION ALL
                SELECT status, n FROM delivery_count_delta WHERE \(endpointID)::text IS NULL OR endpoint_id = \(endpointID)
            ) c GROUP BY status
            """, logger) {
            counts[try row.get(0, as: String.self)] = Int(try row.get(1, as: Int64.self))
        }
        return counts
    }

    /// Adds the appended deltas into the kept counts, when no other node is doing it.
    package static func foldCounts(_ connection: PostgresConnection, _ logger: Logger) async throws {
        guard try await connection.rows("SELECT pg_try_advisory_xact_lock(\(Int64(0x484B_4C4F)))", logger).first?.get(0, as: Bool.self) == true else {
            return
        }
        // Deletes only the deltas committed before this statement began; later ones wait for the next fold.
        try await connection.run("""
            WITH folded AS (DELETE FROM delivery_count_delta RETURNING endpoint_id, status, n),
                 sums AS (SELECT endpoint_id, status, sum(n)::bigint AS n FROM folded GROUP BY endpoint_id, status)
            INSERT INTO delivery_count (endpoint_id, status, n) SELECT endpoint_id, status, n FROM sums
            ON CONFLICT (endpoint_id, status) DO UPDATE SET n = delivery_count.n + excluded.n
            """, logger)
    }
}
