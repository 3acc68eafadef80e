import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklineHTTP
import HooklineServer
import HooklineSQLite
import HooklineTelemetry
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Dispatch throughput: N events fanned out to E endpoints, delivered to a minimal receiver on
/// 127.0.0.1 with every attempt durably recorded; and that receiver's own ceiling, for the ratio.
public struct DispatchBenchmark: Sendable {
    /// What answers the deliveries.
    public enum Receiver: String, Sendable, CaseIterable {
        /// A minimal Hummingbird route in this process.
        case hummingbird
        /// nginx in its own processes (two workers), `return 200`.
        case nginx
    }

    public var events: Int
    public var endpoints: Int
    public var concurrencyPerEndpoint: Int
    public var ceilingSeconds: Double
    public var directory: String
    public var receiver: Receiver
    /// Whether to dispatch the same events a second time with a span per attempt, exported to a
    /// local OTLP sink, for the cost of tracing.
    public var compareTracing: Bool

    public init(
        events: Int = 20_000, endpoints: Int = 4, concurrencyPerEndpoint: Int = 8, ceilingSeconds: Double = 5, directory: String,
        receiver: Receiver = .hummingbird, compareTracing: Bool = false
    ) {
        self.receiver = receiver
        self.compareTracing = compareTracing
        self.events = events
        self.endpoints = endpoints
        self.concurrencyPerEndpoint = concurrencyPerEndpoint
        self.ceilingSeconds = ceilingSeconds
        self.directory = directory
    }

    public struct Report: Sendable {
        public var events: Int
        public var deliveries: Int
        public var ingestSeconds: Double
        public var dispatchSeconds: Double
        /// CPU seconds the whole process used while dispatching (the in-process receiver's included).
        public var dispatchCPUSeconds: Double
        /// Attempts per recording transaction and requests in flight on average.
        public var statistics: DispatchStatistics
        public var ceilingRequestsPerSecond: Double
        public var ceilingTool: String
        public var peakResidentBytes: Int?
        public var reference: Reference
        /// The traced pass, when compared: its deliveries/s and the export requests the sink got.
        public var traced: (deliveriesPerSecond: Double, exportRequests: Int)?

        /// Events accepted per second through the core's batch ingest (1000 per transaction).
        public var ingestEventsPerSecond: Double { ingestSeconds > 0 ? Double(events) / ingestSeconds : 0 }
        public var deliveriesPerSecond: Double { dispatchSeconds > 0 ? Double(deliveries) / dispatchSeconds : 0 }
        public var ratio: Double { ceilingRequestsPerSecond > 0 ? deliveriesPerSecond / ceilingRequestsPerSecond : 0 }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let port: Int
        let stopReceiver: @Sendable () -> Void
        switch receiver {
        case .hummingbird:
            let (hummingbirdPort, server) = try await BenchServer.start(BenchServer.receiver())
            port = hummingbirdPort
            stopReceiver = { server.stopSoon() }
        case .nginx:
            let nginx = try await NginxReceiver(directory: directory)
            port = nginx.port
            stopReceiver = { nginx.stop() }
        }
        defer { stopReceiver() }
        let (ingestSeconds, delivered, dispatchSeconds, dispatchCPUSeconds, statistics, totalConcurrency) = try await pass(port: port, database: "bench-dispatch.db", tracing: nil, log: log)
        let peak = ProcessMemory.peakResident

        var traced: (deliveriesPerSecond: Double, exportRequests: Int)?
        if compareTracing {
            let exports = ExportCount()
            let router = Router()
            router.post("/v1/traces") { request, _ -> Response in
                var request = request
                _ = try await request.collectBody(upTo: 64 << 20)
                exports.add()
                return Response(status: .ok, headers: [.contentType: "application/x-protobuf"], body: .init(byteBuffer: ByteBuffer()))
            }
            let (sinkPort, sink) = try await BenchServer.start(router)
            let export = try TraceExport.make(TraceExport.Settings(endpoint: "http://127.0.0.1:\(sinkPort)"), logger: Logger(label: "bench.telemetry"))
            let exporter = RunningService(export.service)
            log("the same events again, a span per attempt exported to a local OTLP sink…")
            let (_, tracedDelivered, tracedSeconds, _, _, _) = try await pass(
                port: port, database: "bench-dispatch-traced.db", tracing: AttemptTracing(tracer: export.tracer, propagate: false), log: log)
            await exporter.stop()
            await sink.stop()
            traced = (tracedSeconds > 0 ? Double(tracedDelivered) / tracedSeconds : 0, exports.count)
        }

        log("the same \(events * endpoints) requests without the store: bare async-http-client, then Hookline's transport alone…")
        let reference = try await Self.reference(
            port: port, requests: events * endpoints, concurrency: min(totalConcurrency, concurrencyPerEndpoint * endpoints))

        log("measuring the receiver's ceiling for \(ceilingSeconds) s…")
        let (ceiling, tool) = try await Self.ceiling(port: port, seconds: ceilingSeconds)
        return Report(events: events, deliveries: delivered, ingestSeconds: ingestSeconds, dispatchSeconds: dispatchSeconds, dispatchCPUSeconds: dispatchCPUSeconds,
                      statistics: statistics,
                      ceilingRequestsPerSecond: ceiling, ceilingTool: tool, peakResidentBytes: peak, reference: reference, traced: traced)
    }

    /// Ingests the events into a new database and delivers them: the ingest's seconds, the
    /// deliveries that succeeded, the dispatch's seconds, CPU seconds and statistics, and the total concurrency used.
    func pass(
        port: Int, database: String, tracing: AttemptTracing?, log: @escaping @Sendable (String) -> Void
    ) async throws -> (Double, Int, Double, Double, DispatchStatistics, Int) {
        let store = try SQLiteStore(path: directory + "/" + database)
        defer { try? store.close() }
        let operations = Operations(store: store, actor: .cli)
        for index in 0..<endpoints {
            _ = try await operations.addEndpoint(url: "http://127.0.0.1:\(port)/hook/\(index)", secret: "bench-secret-0123456789abcdef")
        }
        log("ingesting \(events) events × \(endpoints) endpoints through the core, 1000 per transaction…")
        let ingestStart = ContinuousClock.now
        // With tracing, every event carries a producer's trace context, as one sent through the API does.
        try await operations.emitExamples(events, traceParent: tracing == nil ? nil : "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let ingestSeconds = LoadGenerator.seconds(since: ingestStart)

        log("delivering…")
        let configuration = DispatcherConfiguration(
            concurrencyPerEndpoint: concurrencyPerEndpoint, totalConcurrency: Self.totalConcurrency(endpoints: endpoints, perEndpoint: concurrencyPerEndpoint),
            tracing: tracing)
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5,
            connectionsPerHost: configuration.totalConcurrency)
        var quiet = Logger(label: "bench.dispatcher")
        quiet.logLevel = .error
        let dispatcher = Dispatcher(store: store, transport: transport, configuration: configuration, logger: quiet)
        let dispatchStart = ContinuousClock.now
        let (_, dispatchCPUSeconds) = try await ProcessCPU.measure { try await dispatcher.run(.drain) }
        let dispatchSeconds = LoadGenerator.seconds(since: dispatchStart)
        await transport.shutdown()
        let delivered = try await store.countDeliveries(status: .succeeded, endpointID: nil)
        return (ingestSeconds, delivered, dispatchSeconds, dispatchCPUSeconds, await dispatcher.statistics, configuration.totalConcurrency)
    }

    /// Requests in flight in all: serve's default of 256, or every endpoint's share when that is
    /// more and at most 1024 (a thousand connections to one local receiver overflow its backlog).
    static func totalConcurrency(endpoints: Int, perEndpoint: Int) -> Int {
        perEndpoint * endpoints <= 1024 ? max(256, perEndpoint * endpoints) : 256
    }

    /// Requests per second the receiver answers, and the tool that measured it.
    static func ceiling(port: Int, seconds: Double) async throws -> (Double, String) {
        let body = try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData).canonicalBytes
        let generator = LoadGenerator(
            url: "http://127.0.0.1:\(port)/hook/0", body: body, headers: [("Content-Type", "application/json")], connections: 64)
        let result = try await generator.run(seconds: seconds)
        return (result.requestsPerSecond, result.tool)
    }

    /// The reference without Hookline: the same requests through a bare async-http-client loop,
    /// and through Hookline's transport (signing, SSRF guard, deadline) without the store.
    public struct Reference: Sendable {
        /// Requests in flight.
        public var concurrency: Int
        public var bareClientRequestsPerSecond: Double
        public var transportRequestsPerSecond: Double
        /// CPU seconds the whole process used for each loop.
        public var bareClientCPUSeconds: Double
        public var transportCPUSeconds: Double
    }

    /// Sends `requests` requests, `concurrency` at a time, both ways.
    public static func reference(port: Int, requests: Int, concurrency: Int) async throws -> Reference {
        let body = try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData).canonicalBytes
        let generator = LoadGenerator(
            url: "http://127.0.0.1:\(port)/hook/0", body: body, headers: [("Content-Type", "application/json")], connections: concurrency)
        let (bare, bareCPU) = try await ProcessCPU.measure { try await LoadGenerator.withClient(connections: concurrency) { client in
            try await LoadGenerator.load(concurrency: concurrency, limit: .requests(requests)) { _ = try await generator.send(client) }
        } }
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5, connectionsPerHost: concurrency)
        let signer = WebhookSigner(secret: "bench-secret-0123456789abcdef")
        let (viaTransport, transportCPU) = try await ProcessCPU.measure { try await LoadGenerator.load(concurrency: concurrency, limit: .requests(requests)) {
            let headers = signer.headers(body: body, eventID: "evt_bench", eventType: "case.created", attempt: 1,
                                         timestamp: Int64(Date().timeIntervalSince1970))
            let outcome = await transport.send(OutboundRequest(url: generator.url, headers: headers, body: body, timeout: 15))
            guard outcome.statusCode == 200 else { throw HooklineError.invalidInput("the reference request failed: \(outcome)") }
        } }
        await transport.shutdown()
        return Reference(
            concurrency: concurrency, bareClientRequestsPerSecond: bare, transportRequestsPerSecond: viaTransport,
            bareClientCPUSeconds: bareCPU, transportCPUSeconds: transportCPU)
    }
}

/// Export requests a benchmark's OTLP sink answered.
final class ExportCount: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
