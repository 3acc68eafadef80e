import AsyncHTTPClient
import Foundation
import HooklineCore
import HooklineHTTP
import HooklineServer
import HooklineTestSupport
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// `serve --listen`'s routes over real HTTP on 127.0.0.1, on a fresh database of one back end, with
/// a real dispatcher sending to receivers on 127.0.0.1 when asked.
final class ManagementServer: Sendable {
    static let adminToken = "admin-token-0123456789abcdef"

    let port: Int
    let database: TestDatabase
    let store: any HooklineStore
    let operations: Operations
    let app: Task<Void, any Error>
    let dispatcher: Dispatcher
    let dispatching: Task<Void, any Error>?
    let transport: NIOHTTPTransport

    private init(_ backend: StoreBackend, dispatch: Bool) async throws {
        database = try await TestDatabase.make(backend)
        store = try await database.open()
        operations = Operations.quiet(store, actor: .api)
        transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 3)
        var logger = Logger(label: "test.management")
        logger.logLevel = .critical
        dispatcher = Dispatcher(
            store: store, transport: transport,
            configuration: DispatcherConfiguration(requestTimeout: 5, pollInterval: 0.05, refreshInterval: 0.1), logger: logger)
        let dispatcher = self.dispatcher
        dispatching = dispatch ? Task { try await dispatcher.run() } : nil
        let api = IngestAPI(
            operations: operations, configuration: .init(token: Self.adminToken), onAccepted: { await dispatcher.wake() },
            dispatcherRunning: { true }, metricsText: { [] }, testTransport: transport)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        app = Task { try await application.runService(gracefulShutdownSignals: []) }
        var iterator = stream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    /// Runs `body` against a new server, then stops everything and removes the database.
    static func with(_ backend: StoreBackend, dispatch: Bool = false, _ body: (ManagementServer) async throws -> Void) async throws {
        let server = try await ManagementServer(backend, dispatch: dispatch)
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func stop() async {
        await dispatcher.stop()
        _ = await dispatching?.result
        app.cancel()
        _ = await app.result
        await transport.shutdown()
        try? await store.close()
        await database.remove()
    }

    struct Answer: CustomStringConvertible {
        var status: Int
        var json: JSONValue
        var description: String { "\(status) \(json.canonicalString)" }

        /// `data` of a list page.
        var data: [JSONValue] { json["data"]?.arrayValue ?? [] }
        var nextCursor: String? { json["next_cursor"]?.stringValue }
    }

    /// One request; `body` is sent as JSON.
    func call(
        _ method: HTTPMethod, _ path: String, _ body: String? = nil, token: String? = ManagementServer.adminToken,
        contentType: String = "application/json", headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 24)
        let json = (try? JSONValue.parse(bytes.readableBytesView)) ?? .string(String(buffer: bytes))
        return Answer(status: Int(response.status.code), json: json)
    }

    /// Every row of a list route, walking its cursor; `between` runs after each page.
    func walk(_ path: String, limit: Int, between: () async throws -> Void = {}) async throws -> [JSONValue] {
        var rows: [JSONValue] = []
        var cursor: String?
        let separator = path.contains("?") ? "&" : "?"
        repeat {
            let page = try await call(.GET, path + separator + "limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            guard page.status == 200 else { throw TestDatabaseError("\(path) answered \(page)") }
            rows += page.data
            cursor = page.nextCursor
            try await between()
        } while cursor != nil
        return rows
    }
}
