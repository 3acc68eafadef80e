import Foundation
import HooklineCore
import HooklinePostgres
import HooklineSQLite
import HooklineStores

/// The console's cost on a large database: time to read one frame's data, and resident memory.
public struct ConsoleBenchmark: Sendable {
    public var path: String
    public var refreshes: Int
    /// Rows per pane, as a tall terminal shows.
    public var rows: Int

    public init(path: String, refreshes: Int = 100, rows: Int = 40) {
        self.path = path
        self.refreshes = refreshes
        self.rows = rows
    }

    public struct Report: Sendable {
        public var events: Int
        public var deliveries: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var residentBytes: Int?
    }

    public func run() async throws -> Report {
        let store = try await StoreLocation.open(path, creating: false)
        let operations = Operations(store: store, actor: .console)
        var samples: [Double] = []
        for _ in 0..<refreshes {
            let start = ContinuousClock.now
            _ = try await operations.dashboard(eventsLimit: rows, failedLimit: rows)
            samples.append((ContinuousClock.now - start).milliseconds)
        }
        var counts = (events: 0, deliveries: 0)
        if let store = store as? PostgresStore {
            counts = try await store.tableCounts()
        } else if let store = store as? SQLiteStore {
            counts = try await store.tableCounts()
        }
        try? await store.close()
        return Report(
            events: counts.events, deliveries: counts.deliveries, p50Milliseconds: Percentile.of(samples, 50),
            p99Milliseconds: Percentile.of(samples, 99), residentBytes: ProcessMemory.resident)
    }
}
