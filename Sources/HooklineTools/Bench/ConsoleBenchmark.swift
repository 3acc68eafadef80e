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

    /// The tenant the console is scoped to (`:tenant`), or nil for every tenant.
    public var tenant: String?

    public init(path: String, refreshes: Int = 100, rows: Int = 40, tenant: String? = nil) {
        self.tenant = tenant
        self.path = path
        self.refreshes = refreshes
        self.rows = rows
    }

    /// One way the console is looked at, timed in the same run as the others.
    public struct View: Sendable {
        public var name: String
        /// Attempts read for the live attempts view (0: the grid, which reads none).
        public var attemptsLimit: Int
        /// The `:since` window, when set.
        public var since: TimeInterval?
    }

    /// The grid, the attempts view open, and the attempts view with `:since 15m`.
    public var views: [View] {
        [View(name: "grid (4 panes)", attemptsLimit: 0), View(name: "attempts view open", attemptsLimit: rows),
         View(name: "attempts view, :since 15m", attemptsLimit: rows, since: 900)]
    }

    public struct Timing: Sendable {
        public var view: String
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        /// Attempts the view showed in its last frame.
        public var attempts: Int
    }

    public struct Report: Sendable {
        public var events: Int
        public var deliveries: Int
        /// Per view, in the order of ``views``.
        public var timings: [Timing]
        public var residentBytes: Int?
    }

    public func run() async throws -> Report {
        let store = try await StoreLocation.open(path, creating: false)
        let operations = Operations(store: store, actor: .console)
        let views = self.views
        var samples = Array(repeating: [Double](), count: views.count)
        var shown = Array(repeating: 0, count: views.count)
        // Interleaved, so that the VM's drift weighs on every view alike.
        for _ in 0..<refreshes {
            for (index, view) in views.enumerated() {
                let start = ContinuousClock.now
                let since = view.since.map { operations.clock.now().addingTimeInterval(-$0) }
                let snapshot = try await operations.dashboard(
                    eventsLimit: rows, failedLimit: rows, attemptsLimit: view.attemptsLimit, since: since, endpoints: EndpointWindow(tenant: tenant))
                samples[index].append((ContinuousClock.now - start).milliseconds)
                shown[index] = snapshot.attempts.count
            }
        }
        var counts = (events: 0, deliveries: 0)
        if let store = store as? PostgresStore {
            counts = try await store.tableCounts()
        } else if let store = store as? SQLiteStore {
            counts = try await store.tableCounts()
        }
        try? await store.close()
        let timings = views.indices.map { index in
            Timing(view: views[index].name, p50Milliseconds: Percentile.of(samples[index], 50), p99Milliseconds: Percentile.of(samples[index], 99),
                   attempts: shown[index])
        }
        return Report(events: counts.events, deliveries: counts.deliveries, timings: timings, residentBytes: ProcessMemory.resident)
    }
}
