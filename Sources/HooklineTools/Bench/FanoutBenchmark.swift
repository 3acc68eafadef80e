import Foundation
import HooklineCore
import HooklineHTTP
import HooklineSQLite
import Logging
import Synchronization

/// Fan-out at scale and the noisy neighbour: one event to E endpoints (one per customer) on a local
/// receiver, how long its deliveries take to create and to attempt, and the first-attempt latency
/// of those endpoints alone and while one other endpoint works through a large backlog.
public struct FanoutBenchmark: Sendable {
    public var endpoints: Int
    public var backlog: Int
    public var directory: String

    public init(endpoints: Int, backlog: Int, directory: String) {
        self.endpoints = endpoints
        self.backlog = backlog
        self.directory = directory
    }

    /// First attempts of one event's deliveries.
    public struct Wave: Sendable {
        /// The ingest transaction that created the deliveries.
        public var createMilliseconds: Double
        /// From the event's acceptance until every delivery was attempted.
        public var allAttemptedSeconds: Double
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var maxMilliseconds: Double
    }

    public struct Report: Sendable {
        public var endpoints: Int
        public var alone: Wave
        public var besideBacklog: Wave
        /// The hot endpoint's deliveries still pending when the last quiet one was attempted.
        public var backlogLeft: Int
        public var peakResidentBytes: Int?
    }

    /// The first arrival of each path at the receiver.
    final class Arrivals: Sendable {
        let first = Mutex<[String: ContinuousClock.Instant]>([:])
        let hot = Atomic<Int>(0)

        func record(_ path: String) {
            if path == "/hot" {
                hot.add(1, ordering: .relaxed)
                return
            }
            let now = ContinuousClock.now
            first.withLock { if $0[path] == nil { $0[path] = now } }
        }

        func reset() { first.withLock { $0.removeAll() } }
        var count: Int { first.withLock { $0.count } }
        var instants: [ContinuousClock.Instant] { first.withLock { Array($0.values) } }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let arrivals = Arrivals()
        let (port, receiver) = try await BenchServer.start(BenchServer.receiver { _, path in arrivals.record(path) })
        defer { receiver.stopSoon() }
        let store = try SQLiteStore(path: directory + "/bench-fanout-\(endpoints).db")
        defer { try? store.close() }
        var quietLogger = Logger(label: "bench.fanout")
        quietLogger.logLevel = .error
        let operations = Operations(store: store, actor: .cli, logger: quietLogger)
        let quietType = "case.created", hotType = "case.updated"
        log("adding \(endpoints) endpoints subscribed to \(quietType) and one hot endpoint subscribed to \(hotType)…")
        _ = try await operations.addEndpoint(url: "http://127.0.0.1:\(port)/hot", eventTypes: .only([hotType]), secret: "bench-secret-0123456789abcdef")
        for index in 0..<endpoints {
            _ = try await operations.addEndpoint(
                url: "http://127.0.0.1:\(port)/customer/\(index)", eventTypes: .only([quietType]), secret: "bench-secret-0123456789abcdef")
        }
        let configuration = DispatcherConfiguration()
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5, connectionsPerHost: configuration.totalConcurrency)
        let dispatcher = Dispatcher(store: store, transport: transport, configuration: configuration, logger: quietLogger)
        let running = Task { try await dispatcher.run(.continuous) }
        defer { running.cancel() }
        let data = try JSONValue.parse(EventCatalog.type(named: quietType)!.exampleData)

        log("one \(quietType) event to \(endpoints) endpoints, nothing else to do…")
        let alone = try await wave(data, type: quietType, operations: operations, dispatcher: dispatcher, arrivals: arrivals)

        log("\(backlog) \(hotType) events to the hot endpoint, then the same fan-out while it works through them…")
        let hotData = try JSONValue.parse(EventCatalog.type(named: hotType)!.exampleData)
        var made = 0
        while made < backlog {
            let count = min(1000, backlog - made)
            _ = try await operations.emitBatch(Array(repeating: EmitRequest(type: hotType, data: hotData), count: count))
            made += count
        }
        await dispatcher.wake()
        while arrivals.hot.load(ordering: .relaxed) < min(backlog / 10, 2000) { try await Task.sleep(for: .milliseconds(2)) }
        arrivals.reset()
        let beside = try await wave(data, type: quietType, operations: operations, dispatcher: dispatcher, arrivals: arrivals)
        let left = try await store.countDeliveries(status: .pending, endpointID: nil)
        await dispatcher.stop()
        _ = try? await running.value
        await transport.shutdown()
        guard left > 0 else {
            throw BenchmarkError("the hot endpoint's backlog was gone before the quiet endpoints were served: give a larger --backlog")
        }
        return Report(endpoints: endpoints, alone: alone, besideBacklog: beside, backlogLeft: left, peakResidentBytes: ProcessMemory.peakResident)
    }

    /// Emits one event to every quiet endpoint and waits until each has received it.
    func wave(_ data: JSONValue, type: String, operations: Operations, dispatcher: Dispatcher, arrivals: Arrivals) async throws -> Wave {
        let accepted = ContinuousClock.now
        let result = try await operations.emit(type: type, data: data)
        let created = ContinuousClock.now
        await dispatcher.wake()
        guard result.summary.deliveries == endpoints else {
            throw BenchmarkError("the event made \(result.summary.deliveries) deliveries, not \(endpoints)")
        }
        let deadline = ContinuousClock.now + .seconds(600)
        while arrivals.count < endpoints {
            guard ContinuousClock.now < deadline else {
                throw BenchmarkError("only \(arrivals.count) of \(endpoints) endpoints were attempted within 10 minutes")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        let samples = arrivals.instants.map { ($0 - accepted).milliseconds }
        return Wave(
            createMilliseconds: (created - accepted).milliseconds, allAttemptedSeconds: (samples.max() ?? 0) / 1000,
            p50Milliseconds: Percentile.of(samples, 50), p99Milliseconds: Percentile.of(samples, 99), maxMilliseconds: samples.max() ?? 0)
    }
}
