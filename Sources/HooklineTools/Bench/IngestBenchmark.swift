import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklineHTTP
import HooklineServer
import HooklineSQLite
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Ingest through the HTTP API (single events and batches, fan-out to E endpoints, durably
/// committed), and the latency from ingest to each delivery's first attempt at a steady rate.
public struct IngestBenchmark: Sendable {
    public var seconds: Double
    public var connections: Int
    public var batchSize: Int
    public var batchConnections: Int
    public var endpoints: Int
    public var rate: Double
    public var latencySeconds: Double
    /// Tenants, each with `endpoints` endpoints, the events spread over them in turn; 0 for none
    /// (every event and endpoint in `default`, as before tenants).
    public var tenants: Int
    public var directory: String

    public init(
        seconds: Double = 5, connections: Int = 64, batchSize: Int = 1000, batchConnections: Int = 4, endpoints: Int = 4,
        rate: Double = 500, latencySeconds: Double = 10, tenants: Int = 0, directory: String
    ) {
        self.tenants = tenants
        self.seconds = seconds
        self.connections = connections
        self.batchSize = batchSize
        self.batchConnections = batchConnections
        self.endpoints = endpoints
        self.rate = rate
        self.latencySeconds = latencySeconds
        self.directory = directory
    }

    /// One ingest run: events committed per second, as counted in the database afterwards.
    public struct Throughput: Sendable {
        public var eventsPerSecond: Double
        public var requestsPerSecond: Double
        public var events: Int
        public var failedRequests: Int
        public var tool: String
    }

    public struct Latency: Sendable {
        public var events: Int
        public var deliveries: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var maxMilliseconds: Double
    }

    public struct Report: Sendable {
        public var single: Throughput
        public var batch: Throughput
        public var latency: Latency
        public var peakResidentBytes: Int?
    }

    static let token = "bench-token-0123456789abcdef"

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let arrivals = Arrivals()
        let (receiverPort, receiver) = try await BenchServer.start(BenchServer.receiver { headers, path in
            if let id = headers[HTTPField.Name("X-Webhook-Id")!] { arrivals.record(id + path) }
        })
        defer { receiver.stopSoon() }
        let headers = [("Authorization", "Bearer \(Self.token)"), ("Content-Type", "application/json")]
        let data = String(decoding: try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData).canonicalBytes, as: UTF8.self)
        let event = "{\"event\":\"case.created\",\"data\":\(data)}"
        let tenantIDs = (0..<tenants).map { "tenant-\($0)" }
        let forTenant = { (tenant: String?) -> String in
            tenant.map { "{\"event\":\"case.created\",\"tenant\":\"\($0)\",\"data\":\(data)}" } ?? event
        }
        let singles = tenantIDs.isEmpty ? [Array(event.utf8)] : tenantIDs.map { Array(forTenant($0).utf8) }
        let batchItems = (0..<batchSize).map { index in forTenant(tenantIDs.isEmpty ? nil : tenantIDs[index % tenantIDs.count]) }

        // Throughput: no dispatcher, so that ingest has the machine to itself.
        let ingest = try await Stack(path: directory + "/bench-ingest.db", receiverPort: receiverPort, endpoints: endpoints,
                                     tenants: tenantIDs, maximumBatch: batchSize, dispatching: false)
        log("single events: POST /v1/events, \(connections) connections, \(seconds) s…")
        let single = try await measure(
            LoadGenerator(url: ingest.url("/v1/events"), bodies: singles, headers: headers, connections: connections),
            store: ingest.store)
        log("batches: POST /v1/events/batch, \(batchSize) events each, \(batchConnections) connections, \(seconds) s…")
        let batchBody = "{\"events\":[" + batchItems.joined(separator: ",") + "]}"
        let batch = try await measure(
            LoadGenerator(url: ingest.url("/v1/events/batch"), body: Array(batchBody.utf8), headers: headers, connections: batchConnections),
            store: ingest.store)
        await ingest.stop()

        // Latency: a new database, so that the backlog above is not in the way; the dispatcher runs.
        let live = try await Stack(path: directory + "/bench-latency.db", receiverPort: receiverPort, endpoints: endpoints,
                                   tenants: tenantIDs, maximumBatch: batchSize, dispatching: true)
        log("latency: \(rate) events/s for \(latencySeconds) s, each to \(endpoints) endpoints, dispatcher running…")
        let latency: Latency
        do {
            latency = try await measureLatency(
                LoadGenerator(url: live.url("/v1/events"), bodies: singles, headers: headers, connections: 64), arrivals: arrivals)
        } catch {
            await live.stop()
            throw error
        }
        await live.stop()
        return Report(single: single, batch: batch, latency: latency, peakResidentBytes: ProcessMemory.peakResident)
    }

    /// A store with endpoints, the ingest API as `serve --listen` runs it (group commits) and,
    /// when dispatching, a dispatcher woken by each accepted event.
    struct Stack {
        let store: SQLiteStore
        let port: Int
        let server: RunningService
        let dispatcher: (Dispatcher, NIOHTTPTransport, Task<Void, any Error>)?

        init(path: String, receiverPort: Int, endpoints: Int, tenants: [String] = [], maximumBatch: Int, dispatching: Bool) async throws {
            store = try SQLiteStore(path: path)
            let operations = Operations(store: store, actor: .api, groupCommits: true)
            for tenant in tenants.isEmpty ? [Tenant.defaultID] : tenants {
                if tenant != Tenant.defaultID { _ = try await operations.addTenant(id: tenant) }
                for index in 0..<endpoints {
                    _ = try await operations.addEndpoint(
                        url: "http://127.0.0.1:\(receiverPort)/hook/\(tenant)/\(index)", secret: "bench-secret-0123456789abcdef", tenant: tenant)
                }
            }
            var onAccepted: @Sendable () async -> Void = {}
            if dispatching {
                let configuration = DispatcherConfiguration()
                let transport = NIOHTTPTransport(
                    networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5,
                    connectionsPerHost: configuration.concurrencyPerEndpoint)
                let dispatcher = Dispatcher(store: store, transport: transport, configuration: configuration)
                onAccepted = { await dispatcher.wake() }
                self.dispatcher = (dispatcher, transport, Task { try await dispatcher.run() })
            } else {
                dispatcher = nil
            }
            let api = IngestAPI(
                operations: operations, configuration: .init(token: IngestBenchmark.token, maximumBatch: max(1000, maximumBatch)),
                onAccepted: onAccepted, dispatcherRunning: { true }, metricsText: { [] })
            (port, server) = try await BenchServer.start(api.router())
        }

        func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

        func stop() async {
            await server.stop()
            if let (dispatcher, transport, task) = dispatcher {
                await dispatcher.stop()
                _ = try? await task.value
                await transport.shutdown()
            }
            try? store.close()
        }
    }

    func measure(_ generator: LoadGenerator, store: SQLiteStore) async throws -> Throughput {
        let before = try await store.tableCounts().events
        let result = try await generator.run(seconds: seconds)
        let events = try await store.tableCounts().events - before
        guard events > 0 else {
            throw BenchmarkError("no event was accepted (\(result.failures) requests failed); the ingest API refused the benchmark's requests")
        }
        return Throughput(
            eventsPerSecond: Double(events) / result.seconds, requestsPerSecond: result.requestsPerSecond, events: events,
            failedRequests: result.failures, tool: result.tool)
    }

    /// Sends events at a steady rate without waiting for answers (an open loop), and measures each
    /// delivery from the moment its event was sent to the moment its first attempt reached the receiver.
    func measureLatency(_ generator: LoadGenerator, arrivals: Arrivals) async throws -> Latency {
        let count = max(1, Int(rate * latencySeconds))
        // Arrivals of an earlier run on the same receiver are all in already (that run checked).
        let earlier = arrivals.count
        let sent = Arrivals()
        try await LoadGenerator.withClient(connections: generator.connections) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let start = ContinuousClock.now
                for index in 0..<count {
                    try await Task.sleep(until: start + .nanoseconds(Int64(Double(index) / rate * 1e9)), clock: .continuous)
                    group.addTask {
                        let sentAt = ContinuousClock.now
                        let id = try await generator.sendReturningID(client)
                        sent.record(id, at: sentAt)
                    }
                }
                try await group.waitForAll()
            }
        }
        let expected = count * endpoints
        let deadline = ContinuousClock.now + .seconds(30)
        while arrivals.count < earlier + expected && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let sentAt = sent.snapshot()
        var samples: [Double] = []
        for (key, arrivedAt) in arrivals.snapshot() {
            guard let slash = key.firstIndex(of: "/"), let started = sentAt[String(key[..<slash])] else { continue }
            samples.append((arrivedAt - started).milliseconds)
        }
        guard samples.count == expected else {
            throw BenchmarkError("only \(samples.count) of \(expected) deliveries reached the receiver within 30 s")
        }
        return Latency(events: count, deliveries: samples.count, p50Milliseconds: Percentile.of(samples, 50),
                       p99Milliseconds: Percentile.of(samples, 99), maxMilliseconds: samples.max() ?? 0)
    }
}

/// When each key was first seen: an event sent, an (event, endpoint path) received.
final class Arrivals: Sendable {
    private let firsts = Mutex<[String: ContinuousClock.Instant]>([:])

    func record(_ key: String, at instant: ContinuousClock.Instant = .now) {
        firsts.withLock { if $0[key] == nil { $0[key] = instant } }
    }

    var count: Int { firsts.withLock { $0.count } }

    func snapshot() -> [String: ContinuousClock.Instant] { firsts.withLock { $0 } }
}

extension LoadGenerator {
    /// One ingest request; returns the accepted event's id.
    func sendReturningID(_ client: HTTPClient) async throws -> String {
        let (status, answer) = try await exchange(client)
        guard status == 202, case .object(let object) = try JSONValue.parse(answer.readableBytesView), case .string(let id)? = object["id"] else {
            throw BenchmarkError("the ingest API answered \(status) instead of 202")
        }
        return id
    }
}
