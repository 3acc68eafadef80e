import Foundation
import GRDB
import HooklineCore
import HooklineSQLite

extension SQLiteStore {
    /// What ``generateHistory(events:endpoints:window:progress:)`` made.
    public struct SyntheticHistory: Sendable {
        public var events: Int
        public var deliveries: Int
        public var attempts: Int
        public var seconds: Double
    }

    /// Fills the store with a realistic history for benchmarks: `events` events spread over `window`
    /// seconds up to now, each delivered to `fanOut` of `endpoints` new endpoints (all of them by
    /// default; in turn, so that each endpoint gets its share), one attempt per
    /// delivery; about 97 % succeeded, 1 % failed, 1 % pending, 1 % held. Bulk inserts with cached
    /// statements in transactions of 20,000 events.
    public func generateHistory(
        events: Int, endpoints: Int, fanOut: Int? = nil, window: TimeInterval = 30 * 86_400,
        progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws(HooklineError) -> SyntheticHistory {
        let fanOut = min(endpoints, max(1, fanOut ?? endpoints))
        let started = Date()
        let now = Timestamp.milliseconds(started)
        let endpointIDs = (0..<endpoints).map { _ in Identifier.endpoint() }
        for first in stride(from: 0, to: endpointIDs.count, by: 10_000) {
            try await write { db in
            for index in first..<min(endpointIDs.count, first + 10_000) {
                let id = endpointIDs[index]
                let endpoint = Endpoint(
                    id: id, url: "https://receiver-\(index).example.com/hook", description: "synthetic \(index)", secret: Secret.generate(),
                    createdAt: started, updatedAt: started)
                try db.execute(
                    sql: "INSERT INTO endpoint (\(Self.endpointColumns)) VALUES (\(Self.endpointPlaceholders))",
                    arguments: try Self.endpointArguments(endpoint, secrets: self.secrets))
            }
            }
        }
        let payload = Data(try JSONValue.parse(EventCatalog.all[0].exampleData).canonicalBytes)
        let chunk = 20_000
        var made = 0
        var attempts = 0
        while made < events {
            let count = min(chunk, events - made)
            let first = made
            attempts += try await write { db in
                let event = try db.cachedStatement(sql: "INSERT INTO event (id, type, payload, created_at) VALUES (?, ?, ?, ?)")
                let delivery = try db.cachedStatement(sql: """
                    INSERT INTO delivery (id, event_id, endpoint_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let attempt = try db.cachedStatement(sql: """
                    INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code, error_class, error_message)
                    VALUES (?, ?, 1, 'scheduled', ?, ?, ?, ?, ?)
                    """)
                var inserted = 0
                var counts = DeliveryCountChanges()
                for offset in 0..<count {
                    let sequence = first + offset
                    // Oldest first, so that the newest events are the last ones written.
                    let at = now - Int64(Double(events - sequence) / Double(max(1, events)) * window * 1000)
                    let date = Timestamp.date(milliseconds: at)
                    let eventID = Identifier.event(at: date)
                    try event.execute(arguments: [eventID, EventCatalog.all[sequence % EventCatalog.all.count].name, payload, at])
                    for slot in 0..<fanOut {
                        let index = (sequence * fanOut + slot) % endpointIDs.count
                        let endpointID = endpointIDs[index]
                        let roll = (sequence * 31 + index * 17) % 100
                        let status: DeliveryStatus = roll == 0 ? .failed : (roll == 1 ? .pending : (roll == 2 ? .held : .succeeded))
                        let deliveryID = Identifier.delivery(at: date)
                        let code: Int = status == .succeeded ? 200 : 503
                        try delivery.execute(arguments: [
                            deliveryID, eventID, endpointID, status.rawValue, status == .pending ? 0 : 1,
                            status == .pending ? now + 3_600_000 : nil, status == .pending || status == .held ? nil : code,
                            status == .failed ? "HTTP 503" : nil, at, at,
                        ])
                        counts.add(endpointID, status)
                        if status != .pending && status != .held {
                            try attempt.execute(arguments: [
                                deliveryID, endpointID, at, 20 + (sequence % 80), code,
                                status == .failed ? "http_status" : nil, status == .failed ? "HTTP 503" : nil,
                            ])
                            inserted += 1
                        }
                    }
                }
                try counts.save(in: db)
                return inserted
            }
            made += count
            progress(made)
        }
        return SyntheticHistory(events: events, deliveries: events * fanOut, attempts: attempts, seconds: Date().timeIntervalSince(started))
    }
}

extension SQLiteStore {
    /// Rows in the event and delivery tables (a full count: for benchmarks and tests, not the console).
    public func tableCounts() async throws(HooklineError) -> (events: Int, deliveries: Int) {
        try await read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM event") ?? 0, try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery") ?? 0)
        }
    }
}
