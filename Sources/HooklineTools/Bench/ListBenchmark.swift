import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklinePostgres
import HooklineServer
import HooklineSQLite
import HooklineStores
import NIOCore

/// The management API's list calls on a large database, over real HTTP on 127.0.0.1: the first
/// page, pages deep into a cursor walk, and filtered pages, each timed per call.
public struct ListBenchmark: Sendable {
    public var path: String
    /// Calls timed per query.
    public var calls: Int
    public var limit: Int

    public init(path: String, calls: Int = 200, limit: Int = 100) {
        self.path = path
        self.calls = calls
        self.limit = limit
    }

    public struct Query: Sendable {
        public var name: String
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var rows: Int
    }

    public struct Report: Sendable {
        public var events: Int
        public var deliveries: Int
        public var queries: [Query]
    }

    static let token = "bench-token-0123456789abcdef"

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let store = try await StoreLocation.open(path, creating: false)
        var counts = (events: 0, deliveries: 0)
        if let store = store as? PostgresStore { counts = try await store.tableCounts() }
        if let store = store as? SQLiteStore { counts = try await store.tableCounts() }
        let operations = Operations(store: store, actor: .api)
        let endpoint = try await store.endpoints(after: nil, limit: 1).first
        let api = IngestAPI(
            operations: operations, configuration: .init(token: Self.token), dispatcherRunning: { true }, metricsText: { [] })
        let (port, server) = try await BenchServer.start(api.router())
        let base = "http://127.0.0.1:\(port)"
        var queries: [Query] = []
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            func get(_ path: String) async throws -> (ms: Double, json: JSONValue) {
                var request = HTTPClientRequest(url: base + path)
                request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
                let start = ContinuousClock.now
                let response = try await client.execute(request, timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 1 << 26)
                let ms = (ContinuousClock.now - start).milliseconds
                guard response.status.code == 200 else {
                    throw BenchmarkError("\(path) answered \(response.status.code): \(String(buffer: body))")
                }
                return (ms, try JSONValue.parse(body.readableBytesView))
            }
            func time(_ name: String, _ path: String) async throws {
                log("\(name): \(calls) calls of GET \(path)…")
                var samples: [Double] = []
                var rows = 0
                for _ in 0..<calls {
                    let (ms, json) = try await get(path)
                    samples.append(ms)
                    rows = json["data"]?.arrayValue?.count ?? 0
                }
                queries.append(Query(name: name, p50Milliseconds: Percentile.of(samples, 50), p99Milliseconds: Percentile.of(samples, 99), rows: rows))
            }
            /// A cursor walk: each call fetches the page after the one before, `calls` pages deep.
            func walk(_ name: String, _ path: String) async throws {
                log("\(name): a walk of \(calls) pages of GET \(path)…")
                var samples: [Double] = []
                var cursor: String?
                var rows = 0
                for _ in 0..<calls {
                    let (ms, json) = try await get(path + (cursor.map { "&cursor=\($0)" } ?? ""))
                    samples.append(ms)
                    rows += json["data"]?.arrayValue?.count ?? 0
                    guard let next = json["next_cursor"]?.stringValue else { break }
                    cursor = next
                }
                queries.append(Query(name: name, p50Milliseconds: Percentile.of(samples, 50), p99Milliseconds: Percentile.of(samples, 99), rows: rows))
            }
            try await time("deliveries, first page", "/v1/deliveries?limit=\(limit)")
            try await walk("deliveries, cursor walk", "/v1/deliveries?limit=\(limit)")
            try await time("deliveries of the default tenant", "/v1/deliveries?tenant=default&limit=\(limit)")
            try await time("failed deliveries", "/v1/deliveries?status=failed&limit=\(limit)")
            if let endpoint { try await time("deliveries of one endpoint", "/v1/deliveries?endpoint=\(endpoint.id)&limit=\(limit)") }
            try await time("events, first page", "/v1/events?limit=\(limit)")
            try await walk("events of the default tenant, cursor walk", "/v1/events?tenant=default&limit=\(limit)")
            try await time("endpoints of the default tenant", "/v1/tenants/default/endpoints?limit=\(limit)")
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            await server.stop()
            try? await store.close()
            throw error
        }
        await server.stop()
        try? await store.close()
        return Report(events: counts.events, deliveries: counts.deliveries, queries: queries)
    }
}
