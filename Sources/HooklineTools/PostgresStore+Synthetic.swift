import Foundation
import HooklineCore
import HooklinePostgres
import HooklineSQLite
import NIOCore
import PostgresNIO

extension PostgresStore {
    /// Fills an empty database with the same synthetic history as ``SQLiteStore/generateHistory(events:endpoints:window:progress:)``
    /// (for benchmarks): set-based inserts, 100,000 events per transaction.
    public func generateHistory(
        events: Int, endpoints: Int, fanOut: Int? = nil, window: TimeInterval = 30 * 86_400,
        progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws(HooklineError) -> SQLiteStore.SyntheticHistory {
        let fanOut = Int64(min(endpoints, max(1, fanOut ?? endpoints)))
        let logger = self.logger
        let started = Date()
        let now = Self.millis(started)
        let windowMs = Int64(window * 1000)
        let endpointIDs = (0..<endpoints).map { _ in Identifier.endpoint() }
        for (index, id) in endpointIDs.enumerated() {
            try await createEndpoint(
                Endpoint(id: id, url: "https://receiver-\(index).example.com/hook", description: "synthetic \(index)", secret: Secret.generate(),
                         createdAt: started, updatedAt: started),
                audit: AuditEntry(at: started, actor: .system, action: "endpoint.add", targetIDs: [id], detail: "synthetic"))
        }
        let payload = ByteBuffer(bytes: try JSONValue.parse(EventCatalog.all[0].exampleData).canonicalBytes)
        let types = EventCatalog.all.map(\.name)
        let chunk = 100_000
        var made = 0
        while made < events {
            let first = made
            let last = min(events, made + chunk) - 1
            let total = Int64(events)
            try await write { connection in
                // Ids of synthetic rows: the prefix and the row number in hex, padded like a ULID.
                try await connection.run("""
                    INSERT INTO event (id, type, payload, created_at)
                    SELECT 'evt_' || lpad(upper(to_hex(g)), 26, '0'), (\(types)::text[])[1 + g % \(types.count)], \(payload),
                           \(now) - ((\(total) - g) * \(windowMs) / \(total))
                    FROM generate_series(\(Int64(first)), \(Int64(last))) g
                    """, logger)
                try await connection.run("""
                    INSERT INTO delivery (id, event_id, endpoint_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at)
                    SELECT 'dlv_' || lpad(upper(to_hex(g * \(fanOut) + i)), 26, '0'), 'evt_' || lpad(upper(to_hex(g)), 26, '0'),
                           (\(endpointIDs)::text[])[(g * \(fanOut) + i) % \(Int64(endpoints)) + 1],
                           CASE roll WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' WHEN 2 THEN 'held' ELSE 'succeeded' END,
                           CASE WHEN roll = 1 THEN 0 ELSE 1 END, CASE WHEN roll = 1 THEN \(now + 3_600_000) END,
                           CASE WHEN roll IN (1, 2) THEN NULL WHEN roll = 0 THEN 503 ELSE 200 END,
                           CASE WHEN roll = 0 THEN 'HTTP 503' END, created, created
                    FROM (SELECT g, i, (g * 31 + i * 17) % 100 AS roll, \(now) - ((\(total) - g) * \(windowMs) / \(total)) AS created
                          FROM generate_series(\(Int64(first)), \(Int64(last))) g, generate_series(0, \(fanOut - 1)) i) x
                    """, logger)
                try await connection.run("""
                    INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code, error_class, error_message)
                    SELECT d.id, d.endpoint_id, 1, 'scheduled', d.created_at, 20 + (d.created_at % 80), d.last_status_code,
                           CASE WHEN d.status = 'failed' THEN 'http_status' END, d.last_error
                    FROM delivery d
                    WHERE d.event_id BETWEEN 'evt_' || lpad(upper(to_hex(\(Int64(first)))), 26, '0') AND 'evt_' || lpad(upper(to_hex(\(Int64(last)))), 26, '0')
                      AND d.status IN ('succeeded', 'failed')
                    """, logger)
            }
            made = last + 1
            progress(made)
        }
        try await write { connection in
            try await connection.run("DELETE FROM delivery_count_delta", logger)
            try await connection.run("DELETE FROM delivery_count", logger)
            try await connection.run(
                "INSERT INTO delivery_count (endpoint_id, status, n) SELECT endpoint_id, status, count(*) FROM delivery GROUP BY endpoint_id, status", logger)
        }
        let attempts = try await read { connection in
            try await connection.rows("SELECT count(*) FROM attempt", logger).first?.get(0, as: Int.self) ?? 0
        }
        return SQLiteStore.SyntheticHistory(events: events, deliveries: events * Int(fanOut), attempts: attempts, seconds: Date().timeIntervalSince(started))
    }

    /// Rows in the event and delivery tables (a full count: for benchmarks and tests).
    public func tableCounts() async throws(HooklineError) -> (events: Int, deliveries: Int) {
        let logger = self.logger
        return try await read { connection in
            let row = try await connection.rows("SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM delivery)", logger).first
            return (try row?.get(0, as: Int.self) ?? 0, try row?.get(1, as: Int.self) ?? 0)
        }
    }
}
