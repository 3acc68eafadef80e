import Foundation
import HooklineCore
import HooklineServer
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A local HTTP server for the benchmarks, on 127.0.0.1 and a free port.
enum BenchServer {
    /// Starts serving `router`; returns the port and the running server to stop when done.
    static func start<Context: RequestContext>(_ router: Router<Context>) async throws -> (port: Int, server: RunningService)
    where Context.Source == ApplicationRequestContextSource {
        var logger = Logger(label: "bench.server")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let server = RunningService(app, logger: logger)
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await server.stop()
            throw BenchmarkError("the benchmark's local server did not start")
        }
        return (port, server)
    }

    /// The minimal receiver: 200 with a tiny body; `observe` sees each request's headers first.
    static func receiver(observe: (@Sendable (HTTPFields, String) -> Void)? = nil) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("**") { request, _ -> Response in
            observe?(request.headers, request.uri.path)
            var request = request
            _ = try await request.collectBody(upTo: 1 << 20)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        return router
    }
}

/// Why a benchmark could not run or its figures cannot be trusted, in one sentence.
public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
