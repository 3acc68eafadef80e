import Foundation
import HooklineCore
import HooklineTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing

/// Receivers that misbehave in every way DESIGN.md section 5 names, all at once beside a healthy
/// one: each attempt gets the right class, the schedule and breaker behave, and the healthy
/// endpoint is served while the others hang.
@Suite(.serialized) struct FaultMatrixTests {
    @Test func everyStatusIsClassifiedAndScheduled() async throws {
        let clock = ManualClock()
        let fixture = try DispatchFixture(clock: clock)
        defer { fixture.tearDown() }
        let elsewhere = try await ScriptedReceiver()
        let replies: [(String, ScriptedReceiver.Reply)] = [
            ("502", .init(status: 502)),
            ("503", .init(status: 503)),
            ("503+retry-after", .init(status: 503, headers: [("Retry-After", "120")])),
            ("301", .init(status: 301, headers: [("Location", elsewhere.url("/moved"))])),
            ("302", .init(status: 302, headers: [("Location", elsewhere.url("/moved"))])),
        ]
        var receivers: [ScriptedReceiver] = []
        var endpoints: [String: Endpoint] = [:]
        for (name, reply) in replies {
            let receiver = try await ScriptedReceiver { _, _ in reply }
            receivers.append(receiver)
            endpoints[name] = try await fixture.addEndpoint(receiver.url())
        }
        _ = try await fixture.emit()
        let started = clock.now()
        let byName = endpoints
        // Two attempts a minute apart on the test's clock, unless the receiver asks for longer:
        // once every first attempt is recorded, the clock moves on by the minute, and no further.
        let moved = Mutex(false)
        try await fixture.run(DispatchFixture.manualClockConfiguration(schedule: [0, 60, 3600], throttleFloor: 0), timeFlows: false) {
            if !moved.withLock({ $0 }) {
                for endpoint in byName.values where try await fixture.deliveries(endpoint).first?.attempts != 1 { return false }
                moved.withLock { $0 = true }
                clock.advance(by: 60)
                return false
            }
            for name in ["502", "503", "301", "302"] where try await fixture.deliveries(byName[name]!).first?.attempts != 2 { return false }
            return try await fixture.deliveries(byName["503+retry-after"]!).first?.attempts == 1
        }
        for receiver in receivers { await receiver.stop() }
        await elsewhere.stop()

        for (name, code, errorClass) in [("502", 502, "http_status"), ("503", 503, "http_status"), ("301", 301, "redirect"), ("302", 302, "redirect")] {
            let delivery = try #require(try await fixture.deliveries(endpoints[name]!).first)
            let attempts = try await fixture.attempts(delivery)
            #expect(attempts.map(\.statusCode) == [code, code], "\(name)")
            #expect(attempts.allSatisfy { $0.errorClass == errorClass }, "\(name)")
            #expect(delivery.status == .pending, "\(name): retried on the schedule, then waits for the third attempt")
        }
        #expect(elsewhere.requests.isEmpty, "redirects are not followed")
        let throttled = try #require(try await fixture.deliveries(endpoints["503+retry-after"]!).first)
        let wait = try #require(throttled.nextAttemptAt).timeIntervalSince(started)
        #expect(wait == 120, "Retry-After: 120 on a 503 pushes the next attempt, not the schedule's minute")
    }

    @Test func hostileReceiversAreCutOffAndDoNotDelayAHealthyOne() async throws {
        let fixture = try DispatchFixture()
        defer { fixture.tearDown() }
        let tenMegabytes = String(repeating: "x", count: 10 * 1024 * 1024)
        let healthy = try await ScriptedReceiver()
        let huge = try await ScriptedReceiver { _, _ in ScriptedReceiver.Reply(status: 200, body: tenMegabytes) }
        let silent = RawSocketServer(.silent)
        let endless = RawSocketServer(.endlessBody)
        let selfSigned = try await TLSServer(expired: false)
        let expired = try await TLSServer(expired: true)
        defer {
            silent.stop()
            endless.stop()
        }
        let endpoints = [
            "healthy": try await fixture.addEndpoint(healthy.url()),
            "huge": try await fixture.addEndpoint(huge.url()),
            "silent": try await fixture.addEndpoint(silent.url()),
            "endless": try await fixture.addEndpoint(endless.url()),
            "self-signed": try await fixture.addEndpoint(selfSigned.url),
            "expired": try await fixture.addEndpoint(expired.url),
            "no-dns": try await fixture.addEndpoint("https://hookline-fault-matrix.invalid/hook"),
        ]
        _ = try await fixture.emit(20)
        let memoryBefore = residentBytes()
        let failing = ["silent", "endless", "self-signed", "expired", "no-dns"].map { endpoints[$0]!.id }
        let working = [endpoints["healthy"]!.id, endpoints["huge"]!.id]
        // Until the working endpoints have every delivery and each failing one's breaker is open.
        // A 5 s time limit: the healthy endpoint's 20 deliveries must all be made before the silent
        // one's first attempt gives up, with room for a loaded CI machine.
        // The breaker's open interval is an hour: on a loaded machine the run may outlast the default
        // 30 s, and a half-open probe is not an attempt "already in flight" when the breaker opened.
        let configuration = DispatchFixture.configuration(
            schedule: [0, 3600], timeout: 5, breaker: BreakerConfiguration(openInterval: 3600, maximumOpenInterval: 3600))
        let finished = try await fixture.run(configuration, limit: 90) {
            for id in working where try await fixture.store.countDeliveries(status: .succeeded, endpointID: id) < 20 { return false }
            let open = Set(try await fixture.store.breakers().filter { $0.state == .open }.map(\.endpointID))
            return failing.allSatisfy(open.contains)
        }
        #expect(finished)
        let memoryAfter = residentBytes()
        await healthy.stop()
        await huge.stop()
        await selfSigned.stop()
        await expired.stop()

        func attempts(_ name: String) async throws -> [Attempt] {
            var all: [Attempt] = []
            for delivery in try await fixture.deliveries(endpoints[name]!) { all += try await fixture.attempts(delivery) }
            return all
        }
        let expected = [("silent", "timeout"), ("endless", "timeout"), ("self-signed", "tls"), ("expired", "tls"), ("no-dns", "dns")]
        for (name, errorClass) in expected {
            let made = try await attempts(name)
            #expect(made.allSatisfy { $0.errorClass == errorClass }, "\(name): \(Set(made.map { "\($0.errorClass ?? "-"): \($0.errorMessage ?? "-")" }))")
            // Five consecutive failures open the breaker; only attempts already in flight may follow.
            #expect(made.count >= 5 && made.count <= 5 + DispatcherConfiguration().concurrencyPerEndpoint, "\(name): \(made.count) attempts before the breaker opened")
        }
        let hugeAttempts = try await attempts("huge")
        #expect(hugeAttempts.allSatisfy { $0.statusCode == 200 && ($0.responseExcerpt?.utf8.count ?? 0) <= responseExcerptLimit })
        #expect(memoryAfter - memoryBefore < 150 * 1024 * 1024, "twenty 10 MB answers are not kept: \(memoryBefore) → \(memoryAfter) bytes")

        // The healthy endpoint got every delivery before the silent one's first attempt gave up.
        let served = try await attempts("healthy")
        #expect(served.count == 20 && served.allSatisfy { $0.statusCode == 200 })
        #expect(try await attempts("huge").count == 20)
        let lastHealthy = try #require(healthy.requests.map(\.at).max())
        let firstTimeout = try #require(try await attempts("silent").map { $0.startedAt.addingTimeInterval(Double($0.durationMs) / 1000) }.min())
        #expect(lastHealthy < firstTimeout, "a hanging receiver never delays a healthy one")
    }
}

/// A TLS server on 127.0.0.1 whose certificate no client trusts: self-signed, and optionally expired.
/// It never gets past the handshake with a client that checks certificates.
final class TLSServer: Sendable {
    let port: Int
    private let channel: any Channel

    var url: String { "https://127.0.0.1:\(port)/hook" }

    init(expired: Bool) async throws {
        let (certificate, key) = try Self.makeCertificate(expired: expired)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))))
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.close()
    }

    /// A certificate for 127.0.0.1 made with the openssl command: valid for a day, or expired.
    static func makeCertificate(expired: Bool) throws -> (certificate: String, key: String) {
        let directory = NSTemporaryDirectory() + "hookline-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = """
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -subj /CN=127.0.0.1 -out request.pem &&
            openssl x509 -req -in request.pem -signkey key.pem -days \(expired ? -1 : 1) -out certificate.pem
            """
        try runShell(script, in: directory)
        return (try String(contentsOfFile: directory + "/certificate.pem", encoding: .utf8),
                try String(contentsOfFile: directory + "/key.pem", encoding: .utf8))
    }
}

/// This process's resident memory, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
