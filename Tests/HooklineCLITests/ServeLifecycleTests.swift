import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `serve --listen` as its services' lifecycle and its connection limits make it behave: a SIGTERM
/// while producers post, idle and trickling clients, too many connections, and the log format.
@Suite(.serialized) struct ServeLifecycleTests {
    let api = ServeAPITests()

    /// What the clients saw: the ids of events answered 2xx, and 2xx answers to requests started
    /// well after the signal (which the stopped listener should not have taken).
    final class Posts: Sendable {
        let answered = Mutex<[String]>([])
        let lateAccepted = Atomic<Int>(0)
        let signalledAt = Mutex<Date?>(nil)
        /// Set once serve has exited: producers stop instead of waiting on connection attempts.
        let serveExited = Atomic<Bool>(false)
    }

    static func eventBody(_ n: Int) -> String {
        #"{"event":"customer.risk_changed","data":{"customer":{"id":"u\#(n)"},"risk_change":{"from":"low","to":"high"}}}"#
    }

    /// One producer: singles and batches of 5 until serve has exited or its requests keep failing.
    static func produce(_ client: Int, port: Int, posts: Posts) async {
        var n = 0
        var failures = 0
        while failures < 3 && !posts.serveExited.load(ordering: .relaxed) {
            n += 1
            let batch = n % 3 == 0
            let body = batch ? "[" + (0..<5).map { eventBody(client * 100_000 + n * 10 + $0) }.joined(separator: ",") + "]"
                             : eventBody(client * 100_000 + n * 10)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/events\(batch ? "/batch" : "")")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let started = Date()
            do {
                // Short: once serve is gone, the client keeps trying to connect until this runs out.
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3))
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                guard (200..<300).contains(Int(response.status.code)) else { failures += 1; continue }
                let ids = text.matches(of: /"id":"(evt_[0-9A-Z]+)"/).map { String($0.output.1) }
                posts.answered.withLock { $0 += ids }
                if let signalled = posts.signalledAt.withLock({ $0 }), started.timeIntervalSince(signalled) > 2 {
                    posts.lateAccepted.add(1, ordering: .relaxed)
                }
                failures = 0
            } catch {
                failures += 1
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test(arguments: 1...3)
    func sigtermWhileTwelveClientsPostExitsZeroLogsNoErrorAndKeepsEveryAnsweredEvent(_ round: Int) async throws {
        let cli = CLI()
        defer { cli.remove() }
        let log = ServeAPITests.ServeLog()
        let (serve, port) = try await api.startServe(cli, ["--insecure-no-auth"], log: log)
        defer { serve.terminate() }
        #expect(port > 0)
        let posts = Posts()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<12 { group.addTask { await Self.produce(client, port: port, posts: posts) } }
            // Once requests are flowing, at a moment that differs per round.
            while posts.answered.withLock({ $0.count }) < 50 * round { try await Task.sleep(for: .milliseconds(10)) }
            posts.signalledAt.withLock { $0 = Date() }
            kill(serve.processIdentifier, SIGTERM)
            await serve.exit()
            posts.serveExited.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        #expect(serve.terminationStatus == 0, "\(log.text.withLock { $0 })")
        let lines = log.text.withLock { $0 }.split(separator: "\n")
        let errors = lines.filter { $0.contains(#""level":"error""#) || $0.contains(#""level":"critical""#) || !$0.hasPrefix("{") }
        #expect(errors.isEmpty, "\(errors)")
        #expect(posts.lateAccepted.load(ordering: .relaxed) == 0)
        let answered = Set(posts.answered.withLock { $0 })
        #expect(answered.count >= 50 * round)
        let stored = try await DatabaseQueue(path: cli.database).read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM event")) }
        #expect(answered.subtracting(stored).isEmpty, "answered but not stored: \(answered.subtracting(stored).count)")
    }

    /// A raw TCP client, for what HTTP clients do not do on purpose.
    final class RawClient: @unchecked Sendable {
        // @unchecked: a socket descriptor, used by one test at a time.
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// Sends text; false once the server has closed the connection.
        @discardableResult
        func send(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }

        /// Reads what arrives within 100 ms: nil once the server closed the connection.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return nil }
            if count < 0 { return (errno == EAGAIN || errno == EWOULDBLOCK) ? "" : nil }
            return String(decoding: buffer[0..<count], as: UTF8.self)
        }

        /// Waits up to `limit` seconds for the server to close; returns what it sent and when it closed.
        func waitForClose(within limit: TimeInterval) -> (text: String, closedAfter: TimeInterval?) {
            let start = Date()
            var text = ""
            while Date().timeIntervalSince(start) < limit {
                guard let chunk = receive() else { return (text, Date().timeIntervalSince(start)) }
                text += chunk
            }
            return (text, nil)
        }
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeoutAndATrickledBodyIsRefusedAtTheReadDeadline() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let (serve, port) = try await api.startServe(cli, ["--insecure-no-auth", "--idle-timeout", "1s", "--read-timeout", "2s"])
        defer { serve.terminate() }

        let idle = try RawClient(port: port)
        let idleResult = try await offThePool { idle.waitForClose(within: 15) }
        let closedAfter = try #require(idleResult.closedAfter, "the idle connection stayed open for 15 s")
        #expect(closedAfter >= 0.9)

        // One byte every 0.2 s: never idle, but the request is not in after 2 s.
        let slow = try RawClient(port: port)
        slow.send("POST /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n")
        let trickled = try await offThePool { () -> (sent: Int, text: String, open: Bool) in
            let start = Date()
            var sent = 0, text = ""
            while Date().timeIntervalSince(start) < 15 {
                guard slow.send("{") else { return (sent, text, false) }
                sent += 1
                Thread.sleep(forTimeInterval: 0.2)
                guard let chunk = slow.receive() else { return (sent, text, false) }
                text += chunk
            }
            return (sent, text, true)
        }
        #expect(!trickled.open, "the trickling connection was still open after 15 s")
        #expect(trickled.text.hasPrefix("HTTP/1.1 408"), "\(trickled.text)")
        #expect(trickled.sent < 40)

        // Requests that arrive in time are still served on new connections.
        let (status, _) = try await api.get(port, "/v1/health")
        #expect(status == 200)
        serve.terminate()
        await serve.exit()
        #expect(serve.terminationStatus == 0)
    }

    @Test func connectionsBeyondTheCapAreClosedAtOnceAndCounted() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let (serve, port) = try await api.startServe(cli, ["--insecure-no-auth", "--max-connections", "3"])
        defer { serve.terminate() }
        let kept = try (0..<3).map { _ in try RawClient(port: port) }
        // Each kept connection is counted before the next arrives.
        for client in kept {
            client.send("GET /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            let answer = try await offThePool { () -> String in
                var text = ""
                for _ in 0..<100 where !text.contains("\r\n\r\n") { text += client.receive() ?? "" }
                return text
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        }
        let excess = try (0..<2).map { _ in try RawClient(port: port) }
        for client in excess {
            let result = try await offThePool { client.waitForClose(within: 5) }
            #expect(result.closedAfter != nil, "a connection beyond the cap stayed open")
        }
        for client in kept { #expect(client.send("GET /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")) }
        _ = consume kept
        // Until serve has seen the kept connections close, this request is refused (and counted) too.
        var metrics = ""
        var refusedGets = 0
        for _ in 0..<50 {
            if let (status, text) = try? await api.get(port, "/metrics"), status == 200 { metrics = text; break }
            refusedGets += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(metrics.contains("hookline_api_connections_refused_total \(2 + refusedGets)\n"), "\(metrics)")
        serve.terminate()
        await serve.exit()
        #expect(serve.terminationStatus == 0)
    }

    @Test(arguments: [["--log-format=json"], ["--config", "CONFIG"]])
    func jsonLogsFromTheFlagWithAnEqualsSignAndFromTheConfigFile(_ arguments: [String]) async throws {
        let cli = CLI()
        defer { cli.remove() }
        let config = cli.directory + "/serve.yaml"
        try "log_format: json\nretention: 'off'\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await cli.run(["serve", "--drain"] + arguments.map { $0 == "CONFIG" ? config : $0 })
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix("{") && $0.contains(#""message":"#) }, "\(result.stderr)")
    }
}
