import AsyncHTTPClient
import Foundation
import HooklineCore
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Dispatch throughput: N events fanned out to E endpoints, delivered to a minimal receiver on
/// 127.0.0.1 with every attempt durably recorded; and that receiver's own ceiling, for the ratio.
public struct DispatchBenchmark: Sendable {
    public var events: Int
    public var endpoints: Int
    public var concurrencyPerEndpoint: Int
    public var ceilingSeconds: Double
    public var directory: String

    public init(events: Int = 20_000, endpoints: Int = 4, concurrencyPerEndpoint: Int = 8, ceilingSeconds: Double = 5, directory: String) {
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

        /// Events accepted per second through the core's batch ingest (1000 per transaction).
        public var ingestEventsPerSecond: Double { ingestSeconds > 0 ? Double(events) / ingestSeconds : 0 }
        public var deliveriesPerSecond: Double { dispatchSeconds > 0 ? Double(deliveries) / dispatchSeconds : 0 }
        public var ratio: Double { ceilingRequestsPerSecond > 0 ? deliveriesPerSecond / ceilingRequestsPerSecond : 0 }
    }

    /// The minimal receiver: 200 with a tiny body, nothing checked.
    static func startReceiver() async throws -> (Int, Task<Void, any Error>) {
        let router = Router()
        router.post("**") { request, _ -> Response in
            var request = request
            _ = try await request.collectBody(upTo: 1 << 20)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        var logger = Logger(label: "bench.receiver")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        return (await iterator.next() ?? 0, task)
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let (port, receiver) = try await Self.startReceiver()
        defer { receiver.cancel() }
        let store = try SQLiteStore(path: directory + "/bench-dispatch.db")
        defer { try? store.close() }
        let operations = Operations(store: store, actor: .cli)
        for index in 0..<endpoints {
            _ = try await operations.addEndpoint(url: "http://127.0.0.1:\(port)/hook/\(index)", secret: "bench-secret-0123456789abcdef")
        }
        let data = try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData)
        log("ingesting \(events) events × \(endpoints) endpoints through the core, 1000 per transaction…")
        let ingestStart = ContinuousClock.now
        var emitted = 0
        while emitted < events {
            let count = min(1000, events - emitted)
            _ = try await operations.emitBatch(Array(repeating: EmitRequest(type: "case.created", data: data), count: count))
            emitted += count
        }
        let ingestSeconds = Self.seconds(since: ingestStart)

        log("delivering…")
        let configuration = DispatcherConfiguration(
            concurrencyPerEndpoint: concurrencyPerEndpoint, totalConcurrency: max(256, concurrencyPerEndpoint * endpoints))
        let transport = AsyncHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 5,
            connectionsPerHost: configuration.totalConcurrency)
        var quiet = Logger(label: "bench.dispatcher")
        quiet.logLevel = .error
        let dispatcher = Dispatcher(store: store, transport: transport, configuration: configuration, logger: quiet)
        let dispatchStart = ContinuousClock.now
        try await dispatcher.run(.drain)
        let dispatchSeconds = Self.seconds(since: dispatchStart)
        await transport.shutdown()
        let delivered = try await store.countDeliveries(status: .succeeded, endpointID: nil)
        let peak = ProcessMemory.peakResident

        log("measuring the receiver's ceiling for \(ceilingSeconds) s…")
        let (ceiling, tool) = try await Self.ceiling(port: port, seconds: ceilingSeconds)
        return Report(events: events, deliveries: delivered, ingestSeconds: ingestSeconds, dispatchSeconds: dispatchSeconds,
                      ceilingRequestsPerSecond: ceiling, ceilingTool: tool, peakResidentBytes: peak)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Requests per second the receiver answers: with wrk when installed, else a built-in loop.
    static func ceiling(port: Int, seconds: Double) async throws -> (Double, String) {
        let body = String(decoding: try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData).canonicalBytes, as: UTF8.self)
        if let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let script = NSTemporaryDirectory() + "hookline-wrk-\(UUID().uuidString).lua"
            let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            try Data("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = \"\(escaped)\"\n".utf8)
                .write(to: URL(fileURLWithPath: script))
            defer { try? FileManager.default.removeItem(atPath: script) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: wrk)
            process.arguments = ["-t2", "-c64", "-d\(Int(seconds.rounded(.up)))s", "-s", script, "http://127.0.0.1:\(port)/hook/0"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = try await Self.readAll(output)
            process.waitUntilExit()
            for line in text.split(separator: "\n") where line.hasPrefix("Requests/sec:") {
                if let value = Double(line.split(separator: " ").last ?? "") { return (value, "wrk -t2 -c64") }
            }
        }
        return (try await builtInCeiling(port: port, seconds: seconds, body: body), "built-in async-http-client loop, 64 concurrent")
    }

    static func readAll(_ pipe: Pipe) async throws -> String {
        let handle = UncheckedFileHandle(handle: pipe.fileHandleForReading)
        return try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(returning: String(decoding: handle.handle.readDataToEndOfFile(), as: UTF8.self)) }.start()
        }
    }

    static func builtInCeiling(port: Int, seconds: Double, body: String) async throws -> Double {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let count = RequestCounter()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    while ContinuousClock.now < deadline {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/hook/0")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await client.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        count.value.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = Self.seconds(since: start)
        try await client.shutdown()
        return Double(count.value.load(ordering: .relaxed)) / elapsed
    }
}

/// A file handle read on another thread.
struct UncheckedFileHandle: @unchecked Sendable {
    // @unchecked: handed to one reading thread; nothing else uses it meanwhile.
    let handle: FileHandle
}

/// Requests counted across the load generator's tasks.
final class RequestCounter: Sendable {
    let value = Atomic<Int>(0)
}
