import Foundation
import HooklineCore
import HooklineServer
@testable import HooklineSQLite
import Logging
import Synchronization
import Testing

/// `hookline serve` as a process: draining, and surviving SIGKILL without losing a delivery.
@Suite(.serialized) struct ServeTests {
    /// Receivers on 127.0.0.1 at free ports that count what they get per (event, endpoint).
    final class Receivers: Sendable {
        let received = Mutex<[String: Int]>([:])
        let tasks = Mutex<[Task<Void, any Error>]>([])
        let ports = Mutex<[Int]>([])

        func start(count: Int, secret: String) async throws {
            for index in 0..<count {
                let receiver = WebhookReceiver(host: "127.0.0.1", port: 0, path: "/hook", secret: secret)
                var quiet = Logger(label: "test.receive")
                quiet.logLevel = .critical
                let (stream, continuation) = AsyncStream<Int>.makeStream()
                let owner = self
                let task = Task {
                    try await receiver.run(logger: quiet, onListening: { continuation.yield($0) }, onRequest: { request in
                        guard request.verdict == .valid, let id = request.eventID else { return }
                        owner.received.withLock { $0["\(index) \(id)", default: 0] += 1 }
                    })
                }
                tasks.withLock { $0.append(task) }
                var iterator = stream.makeAsyncIterator()
                let port = await iterator.next() ?? 0
                ports.withLock { $0.append(port) }
            }
        }

        var total: Int { received.withLock { $0.values.reduce(0, +) } }

        func stop() async {
            for task in tasks.withLock({ $0 }) {
                task.cancel()
                _ = await task.result
            }
        }
    }

    static let secret = "crash-test-secret-0123456789abcdef"

    /// Waits (up to 30 s) until the process ignores or catches `signal`, as /proc/PID/status says.
    static func waitUntilHandling(_ signal: Int32, _ process: Process) async throws {
        let bit = UInt64(1) << UInt64(signal - 1)
        for _ in 0..<600 {
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let masks = status.split(separator: "\n").filter { $0.hasPrefix("SigIgn:") || $0.hasPrefix("SigCgt:") }
                .compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
            if masks.contains(where: { $0 & bit != 0 }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("serve never took signal \(signal) over")
    }

    func startServe(_ cli: CLI, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--db", cli.database] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func drainDeliversEverythingAndExitsZero() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receivers = Receivers()
        try await receivers.start(count: 1, secret: Self.secret)
        let port = receivers.ports.withLock { $0[0] }
        try await cli.run(["endpoint", "add", "http://127.0.0.1:\(port)/hook", "--secret", Self.secret])
        for _ in 0..<5 {
            try await cli.run(["emit", "customer.risk_changed", "--data", #"{"customer":{"id":"u"},"risk_change":{"from":"low","to":"high"}}"#])
        }
        let result = try await cli.run(["serve", "--drain", "--allow-private-networks"])
        await receivers.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receivers.total == 5)
        let deliveries = try #require(try await cli.run(["deliveries", "--json"]).json as? [[String: Any]])
        #expect(deliveries.allSatisfy { $0["status"] as? String == "succeeded" })
    }

    @Test func sigtermStopsCleanlyWithExitZero() async throws {
        let cli = CLI()
        defer { cli.remove() }
        try await cli.run(["endpoint", "add", "https://example.com/hook"])
        let serve = try startServe(cli, ["--allow-private-networks"])
        // Once serve has taken SIGTERM over (a loaded CI machine can take over half a second to
        // start a debug binary; before that the default action would kill any program).
        try await Self.waitUntilHandling(SIGTERM, serve)
        serve.terminate()
        await serve.exit()
        #expect(serve.terminationReason == .exit)
        #expect(serve.terminationStatus == 0)
    }

    @Test func fiveSIGKILLsAtRandomMomentsLoseNothing() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receivers = Receivers()
        try await receivers.start(count: 2, secret: Self.secret)
        let store = try SQLiteStore(path: cli.database)
        let operations = Operations(store: store, actor: .cli)
        for port in receivers.ports.withLock({ $0 }) {
            _ = try await operations.addEndpoint(url: "http://127.0.0.1:\(port)/hook", secret: Self.secret)
        }
        let data = try JSONValue.parse(#"{"customer":{"id":"u"},"risk_change":{"from":"low","to":"high"}}"#)
        var eventIDs: [String] = []
        for _ in 0..<10 {
            let batch = try await operations.emitBatch(Array(repeating: EmitRequest(type: "customer.risk_changed", data: data), count: 1000))
            eventIDs += try batch.map { try $0.get().summary.event.id }
        }
        let flags = ["--allow-private-networks", "--lease", "3s", "--timeout", "1s", "--retry-schedule", "0s,100ms,100ms,100ms,100ms,100ms"]
        let total = eventIDs.count * 2

        // Five runs, each killed after a random share of the remaining work has arrived.
        var inFlightAtKills: [Int] = []
        var receivedAtKills: [Int] = []
        for _ in 0..<5 {
            let target = receivers.total + Int.random(in: 500...2500)
            let serve = try startServe(cli, flags)
            let deadline = Date().addingTimeInterval(120)
            while receivers.total < target && Date() < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            kill(serve.processIdentifier, SIGKILL)
            await serve.exit()
            #expect(serve.terminationReason == .uncaughtSignal)
            inFlightAtKills.append(try await store.countDeliveries(status: .sending, endpointID: nil))
            receivedAtKills.append(receivers.total)
        }
        #expect(receivedAtKills.last! < total, "the last kill happened before the end")

        let last = try startServe(cli, flags + ["--drain"])
        await last.exit()
        #expect(last.terminationStatus == 0)
        await receivers.stop()

        let counts = receivers.received.withLock { $0 }
        var missing = 0
        var duplicates = 0
        for eventID in eventIDs {
            for index in 0..<2 {
                let count = counts["\(index) \(eventID)"] ?? 0
                if count == 0 { missing += 1 }
                duplicates += max(0, count - 1)
            }
        }
        #expect(missing == 0, "every (event, endpoint) pair was delivered")
        #expect(try await store.countDeliveries(status: .failed, endpointID: nil) == 0)
        #expect(try await store.countDeliveries(status: .succeeded, endpointID: nil) == total)
        let bound = inFlightAtKills.reduce(0, +)
        #expect(duplicates <= bound, "duplicates (\(duplicates)) come only from deliveries in flight at the kills (\(bound))")
        print("crash test: 5 kills after \(receivedAtKills) receipts with \(inFlightAtKills) in flight; \(duplicates) duplicates of \(total) deliveries")
        try store.close()
    }
}
