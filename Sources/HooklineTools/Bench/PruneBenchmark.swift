import Foundation
import HooklineCore
import HooklineSQLite

/// What pruning costs a running dispatcher: ingest → first attempt latency at a steady rate on a
/// large database, first alone, then while a pruning pass runs as `serve --retention` runs it.
public struct PruneBenchmark: Sendable {
    /// A database to prune (it is changed: give a copy of one made by `bench generate`).
    public var path: String
    public var olderThan: TimeInterval
    public var rate: Double
    public var seconds: Double
    public var endpoints: Int

    public init(path: String, olderThan: TimeInterval, rate: Double = 500, seconds: Double = 20, endpoints: Int = 4) {
        self.path = path
        self.olderThan = olderThan
        self.rate = rate
        self.seconds = seconds
        self.endpoints = endpoints
    }

    public struct Report: Sendable {
        public var alone: IngestBenchmark.Latency
        public var whilePruning: IngestBenchmark.Latency
        public var prune: PruneReport
        public var pruneSeconds: Double
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let arrivals = Arrivals()
        let (receiverPort, receiver) = try await BenchServer.start(BenchServer.receiver { headers, path in
            if let id = headers[.init("X-Webhook-Id")!] { arrivals.record(id + path) }
        })
        defer { receiver.stopSoon() }
        let latency = IngestBenchmark(endpoints: endpoints, rate: rate, latencySeconds: seconds, directory: "")
        let data = String(decoding: try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData).canonicalBytes, as: UTF8.self)
        let generator = LoadGenerator(
            url: "", body: Array("{\"event\":\"case.created\",\"data\":\(data)}".utf8),
            headers: [("Authorization", "Bearer \(IngestBenchmark.token)"), ("Content-Type", "application/json")], connections: 64)
        // The database's own endpoints would get the new events too: they are put aside.
        let setupStore = try SQLiteStore(path: path)
        let setup = Operations(store: setupStore, actor: .system)
        for endpoint in try await setupStore.endpoints() where endpoint.enabled {
            _ = try await setup.disableEndpoint(id: endpoint.id, reason: "set aside by bench prune")
        }
        try setupStore.close()
        let stack = try await IngestBenchmark.Stack(path: path, receiverPort: receiverPort, endpoints: endpoints, maximumBatch: 1000, dispatching: true)
        var live = generator
        live.url = stack.url("/v1/events")
        do {
            log("alone: \(rate) events/s for \(seconds) s to \(endpoints) new endpoints on \(path)…")
            let alone = try await latency.measureLatency(live, arrivals: arrivals)
            log("while pruning events older than \(DurationText.format(olderThan)) (as serve --retention does)…")
            let operations = Operations(store: stack.store, actor: .system)
            let olderThan = self.olderThan
            let started = ContinuousClock.now
            let pruning = Task { try await operations.prune(olderThan: olderThan, pause: RetentionWorker.defaultPause) }
            let during = try await latency.measureLatency(live, arrivals: arrivals)
            let report = try await pruning.value
            let pruneSeconds = (ContinuousClock.now - started).milliseconds / 1000
            await stack.stop()
            return Report(alone: alone, whilePruning: during, prune: report, pruneSeconds: pruneSeconds)
        } catch {
            await stack.stop()
            throw error
        }
    }
}
