import Foundation
import HooklineCore
import HooklinePostgres

/// Dispatch throughput of 1, 2, 3… `hookline serve` processes sharing one PostgreSQL database: N
/// events fanned out to E endpoints on a receiver in this process, every attempt recorded, timed
/// from the nodes' start until the last delivery succeeded.
public struct ClusterBenchmark: Sendable {
    /// An empty PostgreSQL database (`postgres://…`), or one made by an earlier run: it is emptied.
    public var url: String
    /// The `hookline` executable the nodes run.
    public var executable: String
    public var nodeCounts: [Int]
    public var events: Int
    public var endpoints: Int
    /// `HOOKLINE_SECRET_KEY` for the nodes.
    public var secretKey: String

    public init(url: String, executable: String, nodeCounts: [Int] = [1, 2, 3], events: Int = 20_000, endpoints: Int = 4, secretKey: String) {
        self.url = url
        self.executable = executable
        self.nodeCounts = nodeCounts
        self.events = events
        self.endpoints = endpoints
        self.secretKey = secretKey
    }

    public struct Run: Sendable {
        public var nodes: Int
        public var deliveries: Int
        public var seconds: Double
        public var deliveriesPerSecond: Double { seconds > 0 ? Double(deliveries) / seconds : 0 }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> [Run] {
        let (port, receiver) = try await BenchServer.start(BenchServer.receiver())
        defer { receiver.stopSoon() }
        let store = try await PostgresStore(url: url, secretKey: secretKey)
        let operations = Operations(store: store, actor: .cli)
        var runs: [Run] = []
        do {
            for (round, nodes) in nodeCounts.enumerated() {
                // Each round on a fresh set of endpoints; the earlier rounds' rows stay (and are pruned first).
                _ = try await operations.prune(olderThan: 0, includeFailed: true)
                for endpoint in try await store.endpoints() {
                    try await operations.removeEndpoint(id: endpoint.id, force: true)
                }
                for index in 0..<endpoints {
                    _ = try await operations.addEndpoint(url: "http://127.0.0.1:\(port)/hook/\(round)/\(index)", secret: "bench-secret-0123456789abcdef")
                }
                log("\(nodes) node\(nodes == 1 ? "" : "s"): ingesting \(events) events × \(endpoints) endpoints…")
                try await operations.emitExamples(events)
                let total = events * endpoints
                let start = ContinuousClock.now
                let processes = try (0..<nodes).map { _ in try startNode() }
                defer { for process in processes where process.isRunning { process.terminate() } }
                let deadline = ContinuousClock.now + .seconds(600)
                while try await store.countDeliveries(status: .succeeded, endpointID: nil) < total {
                    guard ContinuousClock.now < deadline else { throw BenchmarkError("\(nodes) nodes did not deliver \(total) deliveries within 10 minutes") }
                    guard processes.allSatisfy(\.isRunning) else { throw BenchmarkError("a node exited early; run `hookline serve` against \(store.location) by hand to see why") }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let seconds = LoadGenerator.seconds(since: start)
                for process in processes {
                    process.terminate()
                    process.waitUntilExit()
                }
                let run = Run(nodes: nodes, deliveries: total, seconds: seconds)
                log(String(format: "%d node%@: %d deliveries in %.1f s", nodes, nodes == 1 ? "" : "s", total, seconds))
                runs.append(run)
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return runs
    }

    func startNode() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--allow-private-networks", "--retention", "off"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOOKLINE_DB"] = url
        environment["HOOKLINE_SECRET_KEY"] = secretKey
        environment["HOOKLINE_LOG_LEVEL"] = "error"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
