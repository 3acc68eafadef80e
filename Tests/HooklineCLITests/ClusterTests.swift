import Foundation
import HooklineCore
import HooklineStores
import HooklineTestSupport
import Synchronization
import Testing

/// Three `hookline serve` processes on one PostgreSQL database share the work, survive the loss of
/// one of them, never send the same delivery from two at once, and share each endpoint's breaker.
@Suite(.serialized) struct ClusterTests {
    /// What the receivers saw: receipts per (endpoint, event), and overlaps (the same pair in flight twice at once).
    final class Observations: Sendable {
        let receipts = Mutex<[String: Int]>([:])
        let inFlight = Mutex<[String: Int]>([:])
        let overlaps = Mutex(0)
        /// When each request to the failing endpoint arrived.
        let failingArrivals = Mutex<[Date]>([])

        var total: Int { receipts.withLock { $0.values.reduce(0, +) } }
    }

    @Test(.enabled(if: StoreBackend.available.contains(.postgres)))
    func threeNodesShareTheWorkAndSurviveAKill() async throws {
        let database = try await TestDatabase.make(.postgres)
        let store = try await database.open()
        let operations = Operations(store: store, actor: .cli)
        let seen = Observations()
        // When the nodes start; the fourth endpoint fails for the first seconds after that.
        let nodesStarted = Mutex<Date?>(nil)
        let failingFor: TimeInterval = 8
        var receivers: [ScriptedReceiver] = []
        for index in 0..<4 {
            receivers.append(try await ScriptedReceiver { request, _ in
                let key = "\(index) \(request.headers["x-webhook-id"] ?? "-")"
                let overlapping = seen.inFlight.withLock { counts -> Bool in
                    counts[key, default: 0] += 1
                    return counts[key]! > 1
                }
                if overlapping { seen.overlaps.withLock { $0 += 1 } }
                // Long enough for a second copy of the same delivery to overlap, were there one.
                try? await Task.sleep(for: .milliseconds(2))
                seen.inFlight.withLock { $0[key, default: 1] -= 1 }
                if index == 3 {
                    seen.failingArrivals.withLock { $0.append(request.at) }
                    // The fourth endpoint fails for the first seconds, then recovers.
                    if let started = nodesStarted.withLock({ $0 }), Date().timeIntervalSince(started) < failingFor { return .init(status: 503) }
                }
                seen.receipts.withLock { $0[key, default: 0] += 1 }
                return .ok
            })
        }
        var endpoints: [Endpoint] = []
        for receiver in receivers {
            endpoints.append(try await operations.addEndpoint(url: receiver.url()))
        }
        let data = try JSONValue.parse(#"{"customer":{"id":"u"},"risk_change":{"from":"low","to":"high"}}"#)
        var eventIDs: [String] = []
        for _ in 0..<10 {
            let batch = try await operations.emitBatch(Array(repeating: EmitRequest(type: "customer.risk_changed", data: data), count: 1000))
            eventIDs += try batch.map { try $0.get().summary.event.id }
        }
        let total = eventIDs.count * endpoints.count

        let flags = [
            "serve", "--allow-private-networks", "--retention", "off", "--timeout", "2s", "--lease", "5s",
            "--retry-schedule", "0s" + String(repeating: ",1s", count: 30), "--breaker-failures", "5", "--breaker-open", "3s",
            "--breaker-max-open", "3s",
        ]
        func node() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = flags
            var environment = ProcessInfo.processInfo.environment
            environment["HOOKLINE_DB"] = database.location
            environment["HOOKLINE_SECRET_KEY"] = database.secretKey
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        let started = Date()
        nodesStarted.withLock { $0 = started }
        var nodes = [try node(), try node(), try node()]
        defer { for node in nodes where node.isRunning { node.terminate() } }

        // Midway, one node dies without a chance to give anything back.
        let deadline = Date().addingTimeInterval(240)
        while seen.total < total / 2 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let inFlightAtKill = try await store.countDeliveries(status: .sending, endpointID: nil)
        kill(nodes[1].processIdentifier, SIGKILL)
        await nodes[1].exit()
        #expect(nodes[1].terminationReason == .uncaughtSignal)
        let receivedAtKill = seen.total

        while try await store.countDeliveries(status: .succeeded, endpointID: nil) < total && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        for node in [nodes[0], nodes[2]] {
            node.terminate()
            await node.exit()
            #expect(node.terminationStatus == 0, "a node stops cleanly on SIGTERM")
        }
        nodes = []
        for receiver in receivers { await receiver.stop() }

        // Every pair delivered; duplicates only from what the killed node had in flight.
        let receipts = seen.receipts.withLock { $0 }
        var missing = 0
        var duplicates = 0
        for eventID in eventIDs {
            for index in 0..<endpoints.count {
                let count = receipts["\(index) \(eventID)"] ?? 0
                if count == 0 { missing += 1 }
                duplicates += max(0, count - 1)
            }
        }
        #expect(receivedAtKill < total, "the kill came before the end")
        #expect(missing == 0, "every (event, endpoint) pair was delivered")
        #expect(try await store.countDeliveries(status: .succeeded, endpointID: nil) == total)
        #expect(duplicates <= inFlightAtKill, "duplicates (\(duplicates)) come only from the killed node's claims (\(inFlightAtKill))")
        #expect(seen.overlaps.withLock { $0 } == 0, "no (event, endpoint) pair was in flight twice at once")

        // One breaker for the failing endpoint: after the first failures, all three nodes hold off
        // together, and only one probe goes out per opening (the breaker opens for 3 s).
        let breaker = try #require(try await store.breakers().first { $0.endpointID == endpoints[3].id })
        #expect(breaker.state == .closed, "it closed again once the receiver recovered")
        let arrivals = seen.failingArrivals.withLock { $0 }.filter { $0.timeIntervalSince(started) < failingFor }.sorted()
        let first = try #require(arrivals.first)
        // The breaker cannot open before the first failure, so nothing sent under it arrives before
        // first + 3 s: earlier arrivals are the first wave (sent before it opened, some queued
        // behind the connection pool under load), later ones are probes.
        let burst = arrivals.filter { $0.timeIntervalSince(first) < 2.5 }
        let probes = Array(arrivals.dropFirst(burst.count))
        #expect(burst.count <= 3 * 24, "the first failures: at most what the nodes had claimed (\(burst.count))")
        #expect(!probes.isEmpty && probes.count <= Int(failingFor / 3) + 1, "then one probe per opening: \(probes.map { $0.timeIntervalSince(first) })")
        let gaps = zip(probes, probes.dropFirst()).map { $1.timeIntervalSince($0) }
        #expect(gaps.allSatisfy { $0 >= 2.5 }, "no node sent while the shared breaker was open: \(gaps)")
        print("cluster test: kill after \(receivedAtKill) of \(total) receipts with \(inFlightAtKill) in flight; \(duplicates) duplicates; failing endpoint: \(burst.count) failures, then probes at \(probes.map { String(format: "%.1f s", $0.timeIntervalSince(first)) })")
        try? await store.close()
        await database.remove()
    }
}
