import Foundation
import HooklineCore
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// An HTTP receiver on 127.0.0.1 at a free port whose answers a test scripts.
public final class ScriptedReceiver: Sendable {
    public struct Request: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var at: Date
    }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)] = []
        public var body = #"{"received":true}"#

        public init(status: Int, headers: [(String, String)] = [], body: String = #"{"received":true}"#) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static let ok = Reply(status: 200)
    }

    /// Gets the request and how many requests came before it; may suspend to hang the request.
    public typealias Script = @Sendable (Request, Int) async -> Reply

    public final class Log: Sendable {
        public let requests = Mutex<[Request]>([])
    }

    public let port: Int
    public let log = Log()
    private let task: Task<Void, any Error>

    public init(_ script: @escaping Script = { _, _ in .ok }) async throws {
        let router = Router()
        let log = self.log
        router.post("**") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 22)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            // HTTP/1.1's Host arrives as the request's authority.
            if let authority = request.head.authority { headers["host"] = authority }
            let recorded = Request(path: request.uri.path, headers: headers, body: Array(buffer: buffer), at: Date())
            let index = log.requests.withLock { requests in
                requests.append(recorded)
                return requests.count - 1
            }
            let reply = await script(recorded, index)
            var responseHeaders = HTTPFields()
            responseHeaders[.contentType] = "application/json"
            for (name, value) in reply.headers {
                if let field = HTTPFields.Element.Name(name) { responseHeaders[field] = value }
            }
            return Response(status: .init(code: reply.status), headers: responseHeaders, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
        }
        var logger = Logger(label: "test.receiver")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        task = Task { try await app.runService() }
        var iterator = stream.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    public func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    public var requests: [Request] { log.requests.withLock { $0 } }

    public func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// A TCP server that accepts and then misbehaves: resets, closes before the status line, sends
/// a 200 whose chunked body trickles and never ends, or answers a connection's first request and
/// closes it when the second arrives (a keep-alive connection the receiver dropped meanwhile).
public final class RawSocketServer: @unchecked Sendable {
    // @unchecked: the file descriptor and thread are only touched by init and stop(), which tests
    // call in order; the accept loop reads only its own copies.
    public enum Behaviour: Sendable { case reset, closeBeforeStatus, endlessBody, silent, answersOnceThenCloses }

    public let port: Int
    /// Connections accepted so far.
    public var accepted: Int { silentClients.accepted.load(ordering: .relaxed) }
    private let fd: Int32
    private let thread: Thread
    private let silentClients: Sockets

    /// Accepted sockets kept open until `stop()`, and how many were accepted.
    final class Sockets: Sendable {
        let list = Mutex<[Int32]>([])
        let accepted = Atomic<Int>(0)
    }

    public init(_ behaviour: Behaviour) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 64)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: bound.sin_port))
        let silentClients = Sockets()
        self.silentClients = silentClients
        thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    // Closed by stop(): done. Anything else (an aborted handshake, a full
                    // descriptor table under a loaded test run) must not stop the server accepting.
                    if errno == EBADF || errno == EINVAL { return }
                    usleep(10_000)
                    continue
                }
                silentClients.accepted.add(1, ordering: .relaxed)
                if behaviour == .silent {
                    // Accepts and then neither reads nor answers; the socket closes with the server.
                    silentClients.list.withLock { $0.append(client) }
                    continue
                }
                // Each connection on its own thread: a connection the client opened but has not
                // written to yet must not keep the next one waiting in the backlog.
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = recv(client, &buffer, buffer.count, 0)
                    if behaviour == .endlessBody {
                        let head = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                        let chunk = Array("10\r\n\(String(repeating: "x", count: 16))\r\n".utf8)
                        var sent = send(client, head, head.count, Int32(MSG_NOSIGNAL))
                        while sent > 0 {
                            usleep(50_000)
                            sent = send(client, chunk, chunk.count, Int32(MSG_NOSIGNAL))
                        }
                    } else if behaviour == .answersOnceThenCloses {
                        let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".utf8)
                        _ = send(client, reply, reply.count, Int32(MSG_NOSIGNAL))
                        _ = recv(client, &buffer, buffer.count, 0)
                    } else if behaviour == .reset {
                        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                        setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    }
                    close(client)
                }.start()
            }
        }
        thread.start()
    }

    public func url() -> String { "http://127.0.0.1:\(port)/hook" }

    public func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for client in silentClients.list.withLock({ $0 }) { close(client) }
    }
}

/// A port on 127.0.0.1 with nothing listening: connections are refused.
public func closedPort() -> Int {
    let server = RawSocketServer(.reset)
    server.stop()
    return server.port
}
