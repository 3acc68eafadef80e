import AsyncHTTPClient
import Foundation
import HooklineCore
import NIOCore
import Synchronization

/// Sends POST requests to a local server as fast as it answers: with `wrk` when installed, else with
/// a built-in async-http-client loop (which costs more CPU, so it measures lower).
struct LoadGenerator: Sendable {
    var url: String
    /// The bodies sent in turn (one for every request when there is one).
    var bodies: [[UInt8]]
    var headers: [(name: String, value: String)]
    var connections: Int
    private let turn = RequestCounter()

    init(url: String, body: [UInt8], headers: [(name: String, value: String)], connections: Int) {
        self.init(url: url, bodies: [body], headers: headers, connections: connections)
    }

    init(url: String, bodies: [[UInt8]], headers: [(name: String, value: String)], connections: Int) {
        self.url = url
        self.bodies = bodies
        self.headers = headers
        self.connections = connections
    }

    var body: [UInt8] { bodies[0] }

    struct Result: Sendable {
        var requestsPerSecond: Double
        /// Answers that were not 2xx.
        var failures: Int
        var seconds: Double
        var tool: String
    }

    /// Runs for `seconds`.
    func run(seconds: Double) async throws -> Result {
        if let result = try await wrk(seconds: seconds) { return result }
        let start = ContinuousClock.now
        let failures = RequestCounter()
        let rate = try await Self.withClient(connections: connections) { client in
            try await Self.load(concurrency: connections, limit: .seconds(seconds)) {
                if try await send(client) / 100 != 2 { failures.value.add(1, ordering: .relaxed) }
            }
        }
        return Result(requestsPerSecond: rate, failures: failures.value.load(ordering: .relaxed),
                      seconds: Self.seconds(since: start), tool: "built-in async-http-client loop, \(connections) concurrent")
    }

    /// One request through `client`; returns the status code.
    func send(_ client: HTTPClient) async throws -> Int {
        try await exchange(client).status
    }

    /// One request through `client`; returns the status code and the body.
    func exchange(_ client: HTTPClient) async throws -> (status: Int, body: ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        let index = bodies.count == 1 ? 0 : turn.value.wrappingAdd(1, ordering: .relaxed).oldValue % bodies.count
        request.body = .bytes(ByteBuffer(bytes: bodies[index]))
        let response = try await client.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), try await response.body.collect(upTo: 1 << 20))
    }

    func wrk(seconds: Double) async throws -> Result? {
        // wrk sends one body; several (one per tenant) need the built-in loop.
        guard bodies.count == 1, let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return nil
        }
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var script = "wrk.method = \"POST\"\nwrk.body = \(quoted(String(decoding: body, as: UTF8.self)))\n"
        for header in headers { script += "wrk.headers[\(quoted(header.name))] = \(quoted(header.value))\n" }
        let path = NSTemporaryDirectory() + "hookline-wrk-\(UUID().uuidString).lua"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let threads = min(2, connections)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t\(threads)", "-c\(connections)", "-d\(Int(seconds.rounded(.up)))s", "-s", path, url]
        let output = Pipe()
        process.standardOutput = output
        let start = ContinuousClock.now
        try process.run()
        let text = try await Self.readAll(output)
        process.waitUntilExit()
        var rate: Double?
        var failures = 0
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Requests/sec:") { rate = Double(trimmed.split(separator: " ").last ?? "") }
            if trimmed.hasPrefix("Non-2xx or 3xx responses:") { failures = Int(trimmed.split(separator: " ").last ?? "") ?? 0 }
        }
        guard let rate else { return nil }
        return Result(requestsPerSecond: rate, failures: failures, seconds: Self.seconds(since: start), tool: "wrk -t\(threads) -c\(connections)")
    }

    static func readAll(_ pipe: Pipe) async throws -> String {
        let handle = UncheckedFileHandle(handle: pipe.fileHandleForReading)
        return try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(returning: String(decoding: handle.handle.readDataToEndOfFile(), as: UTF8.self)) }.start()
        }
    }

    static func withClient<T: Sendable>(connections: Int, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    enum Limit {
        case requests(Int)
        case seconds(Double)
    }

    /// Runs `request` from `concurrency` tasks until the limit; returns completed requests per second.
    static func load(concurrency: Int, limit: Limit, request: @escaping @Sendable () async throws -> Void) async throws -> Double {
        let started = RequestCounter()
        let done = RequestCounter()
        let start = ContinuousClock.now
        let deadline: ContinuousClock.Instant? = if case .seconds(let seconds) = limit { start + .milliseconds(Int(seconds * 1000)) } else { nil }
        let cap: Int? = if case .requests(let count) = limit { count } else { nil }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while true {
                        if let deadline, ContinuousClock.now >= deadline { return }
                        if let cap, started.value.add(1, ordering: .relaxed).newValue > cap { return }
                        try await request()
                        done.value.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(done.value.load(ordering: .relaxed)) / Self.seconds(since: start)
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).milliseconds / 1000
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
