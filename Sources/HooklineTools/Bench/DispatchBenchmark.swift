import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklineHTTP
import HooklineSQLite
import Hummingbird
import Logging
import NIOCore

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

    public init(
        events: Int = 20_000, endpoints: Int = 4, concurrencyPerEndpoint: Int = 8, ceilingSeconds: Double = 5, directory: String,
        receiver: Receiver = .hummingbird
    ) {
        self.receiver = receiver
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
        public var ceilingRequestsPerSecond: Double
        public var ceilingTool: String
        public var peakResidentBytes: Int?
        public var reference: Reference

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
        let store = try SQLiteStore(path: directory + "/bench-dispatch.db")
        defer { try? store.close() }
        let operations = Operations(store: store, actor: .cli)
        for index in 0..<endpoints {
            _ = try await operations.addEndpoint(url: "http://127.0.0.1:\(port)/hook/\(index)", secret: "bench-secret-0123456789abcdef")
        }
        log("ingesting \(events) events × \(endpoints) endpoints through the core, 1000 per transaction…")
        let ingestStart = ContinuousClock.now
        try await operations.emitExamples(events)
        let ingestSeconds = LoadGenerator.seconds(since: ingestStart)

        log("delivering…")
        let configuration = DispatcherConfiguration(
            concurrencyPerEndpoint: concurrencyPerEndpoint, totalConcurrency: Self.totalConcurrency(endpoints: endpoints, perEndpoint: concurrencyPerEndpoint))
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5,
            connectionsPerHost: configuration.totalConcurrency)
        var quiet = Logger(label: "bench.dispatcher")
        quiet.logLevel = .error
        let dispatcher = Dispatcher(store: store, transport: transport, configuration: configuration, logger: quiet)
        let dispatchStart = ContinuousClock.now
        try await dispatcher.run(.drain)
        let dispatchSeconds = LoadGenerator.seconds(since: dispatchStart)
        await transport.shutdown()
        let delivered = try await store.countDeliveries(status: .succeeded, endpointID: nil)
        let peak = ProcessMemory.peakResident

        log("the same \(events * endpoints) requests without the store: bare async-http-client, then Hookline's transport alone…")
        let reference = try await Self.reference(
            port: port, requests: events * endpoints, concurrency: min(configuration.totalConcurrency, concurrencyPerEndpoint * endpoints))

        log("measuring the receiver's ceiling for \(ceilingSeconds) s…")
        let (ceiling, tool) = try await Self.ceiling(port: port, seconds: ceilingSeconds)
        return Report(events: events, deliveries: delivered, ingestSeconds: ingestSeconds, dispatchSeconds: dispatchSeconds,
                      ceilingRequestsPerSecond: ceiling, ceilingTool: tool, peakResidentBytes: peak, reference: reference)
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
    }

    /// Sends `requests` requests, `concurrency` at a time, both ways.
    public static func reference(port: Int, requests: Int, concurrency: Int) async throws -> Reference {
        let body = try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData).canonicalBytes
        let generator = LoadGenerator(
            url: "http://127.0.0.1:\(port)/hook/0", body: body, headers: [("Content-Type", "application/json")], connections: concurrency)
        let bare = try await LoadGenerator.withClient(connections: concurrency) { client in
            try await LoadGenerator.load(concurrency: concurrency, limit: .requests(requests)) { _ = try await generator.send(client) }
        }
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5, connectionsPerHost: concurrency)
        let signer = WebhookSigner(secret: "bench-secret-0123456789abcdef")
        let viaTransport = try await LoadGenerator.load(concurrency: concurrency, limit: .requests(requests)) {
            let headers = signer.headers(body: body, eventID: "evt_bench", eventType: "case.created", attempt: 1,
                                         timestamp: Int64(Date().timeIntervalSince1970))
            let outcome = await transport.send(OutboundRequest(url: generator.url, headers: headers, body: body, timeout: 15))
            guard outcome.statusCode == 200 else { throw HooklineError.invalidInput("the reference request failed: \(outcome)") }
        }
        await transport.shutdown()
        return Reference(concurrency: concurrency, bareClientRequestsPerSecond: bare, transportRequestsPerSecond: viaTransport)
    }
}
