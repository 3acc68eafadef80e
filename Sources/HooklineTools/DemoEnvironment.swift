import Foundation
import HooklineCore
import HooklineHTTP
import HooklineServer
import Logging
import Synchronization

/// Demo traffic on a real store: local receivers that behave like real ones (see ``summary``), their endpoints, a dispatcher delivering to them, and a producer emitting the
/// catalog's events. The console shows it all; nothing leaves 127.0.0.1.
public final class DemoEnvironment: Sendable {
    /// One simulated receiver: a name, how it behaves (nil: nothing listens), which events it takes.
    public struct Receiver: Sendable {
        public var name: String
        /// How it behaves, in a word (`healthy`, `down`).
        public var kind: String
        public var behaviour: WebhookReceiver.Behaviour?
        public var events: EventTypeSelection
    }

    /// The receivers in one phrase, as `demo --help` and the README say it: "five local receivers
    /// (healthy, flaky, slow, down, rate-limited)".
    public static var summary: String {
        let words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        let count = receivers.count < words.count ? words[receivers.count] : String(receivers.count)
        return "\(count) local receivers (\(receivers.map(\.kind).joined(separator: ", ")))"
    }

    public static let receivers: [Receiver] = [
        Receiver(name: "CRM sync", kind: "healthy", behaviour: .init(latencyMs: 5...40), events: .all),
        Receiver(name: "Analytics (flaky)", kind: "flaky", behaviour: .init(latencyMs: 10...60, failureRate: 0.3, failureStatus: 500),
                 events: .only(["case.created", "case.recovered", "case.lost", "customer.risk_changed"])),
        Receiver(name: "Email campaigns (slow)", kind: "slow", behaviour: .init(latencyMs: 1500...5500),
                 events: .only(["case.created", "incentive.applied", "incentive.expired"])),
        Receiver(name: "Legacy ERP (down)", kind: "down", behaviour: nil, events: .only(["case.recovered", "case.lost", "case.updated"])),
        Receiver(name: "Zapier (rate-limited)", kind: "rate-limited", behaviour: .init(latencyMs: 5...30, failureRate: 0.5, failureStatus: 429, failureHeaders: ["Retry-After": "5"]),
                 events: .only(["incentive.applied", "customer.risk_changed", "case.created"])),
    ]

    /// Short schedules and breaker intervals, so that a few minutes show every state.
    public static var dispatcherConfiguration: DispatcherConfiguration {
        DispatcherConfiguration(
            planner: DeliveryPlanner(
                retry: RetryPolicy(schedule: [0, 1, 3], throttleFloor: 5),
                breaker: BreakerConfiguration(openInterval: 10, maximumOpenInterval: 60)),
            requestTimeout: 5, lease: 30)
    }

    let store: any HooklineStore
    let operations: Operations
    let logger: Logger
    let tasks = Mutex<[Task<Void, Never>]>([])
    /// The receivers, stopped gracefully (never cancelled: see ``RunningService``).
    let receivers = Mutex<[RunningService]>([])
    let dispatcher: Dispatcher
    let transport: NIOHTTPTransport
    /// Events emitted so far.
    public let emitted = Atomic<Int>(0)

    public init(store: any HooklineStore, logger: Logger = Logger(label: "hookline.demo")) {
        self.store = store
        self.operations = Operations(store: store, actor: .api, logger: logger)
        self.logger = logger
        transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 2)
        dispatcher = Dispatcher(store: store, transport: transport, configuration: Self.dispatcherConfiguration, logger: logger)
    }

    /// Starts the receivers, adds their endpoints (once per database), and starts delivering and emitting.
    public func start(eventsPerSecond: Double) async throws(HooklineError) {
        let existing = try await store.endpoints()
        for (index, spec) in Self.receivers.enumerated() {
            let secret = "demo-secret-\(index)-" + Secret.generate().prefix(24)
            let port: Int
            if let behaviour = spec.behaviour {
                port = try await startReceiver(spec.name, behaviour: behaviour, secret: secret)
            } else {
                port = Self.refusingPort()
            }
            let url = "http://127.0.0.1:\(port)/webhooks/churn-saver"
            if let endpoint = existing.first(where: { $0.description == spec.name }) {
                // A demo database from an earlier run: point its endpoint at this run's receiver.
                try await replaceEndpoint(endpoint, url: url, secret: secret, spec: spec)
            } else {
                _ = try await operations.addEndpoint(url: url, eventTypes: spec.events, secret: secret, description: spec.name)
            }
        }
        let dispatcher = self.dispatcher
        let logger = self.logger
        tasks.withLock {
            $0.append(Task {
                do { try await dispatcher.run(.continuous) } catch { logger.error("demo dispatcher stopped", metadata: ["error": "\(error)"]) }
            })
            $0.append(Task { await self.produce(eventsPerSecond: eventsPerSecond) })
        }
    }

    private func replaceEndpoint(_ endpoint: Endpoint, url: String, secret: String, spec: Receiver) async throws(HooklineError) {
        // The receiver of an earlier run is gone, with its port and secret: the endpoint is re-created.
        try await operations.removeEndpoint(id: endpoint.id, force: true)
        _ = try await operations.addEndpoint(url: url, eventTypes: spec.events, secret: secret, description: spec.name)
    }

    /// A loopback port that nothing listens on: connections to it are refused.
    static func refusingPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func startReceiver(_ name: String, behaviour: WebhookReceiver.Behaviour, secret: String) async throws(HooklineError) -> Int {
        let receiver = WebhookReceiver(host: "127.0.0.1", port: 0, secret: secret, behaviour: behaviour)
        var muted = logger
        muted.logLevel = .critical
        let quiet = muted
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let running = RunningService(ClosureService {
            do {
                try await receiver.run(logger: quiet, onListening: { continuation.yield($0) })
            } catch {
                continuation.yield(0)
            }
        }, logger: quiet)
        receivers.withLock { $0.append(running) }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            throw .storage("The demo receiver '\(name)' could not listen on 127.0.0.1.")
        }
        return port
    }

    /// Emits random catalog events at about the given rate until cancelled.
    func produce(eventsPerSecond: Double) async {
        let interval = 1 / max(0.1, eventsPerSecond)
        var sequence = 0
        while !Task.isCancelled {
            sequence += 1
            let type = EventCatalog.all.randomElement()!
            guard var data = try? JSONValue.parse(type.exampleData) else { continue }
            Self.vary(&data, sequence: sequence)
            do {
                _ = try await operations.emit(type: type.name, data: data)
                emitted.add(1, ordering: .relaxed)
                await dispatcher.wake()
            } catch {
                logger.warning("demo event refused", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000 * Double.random(in: 0.5...1.5))))
        }
    }

    /// Gives each demo event its own ids, so that the console does not show the same one over and over.
    static func vary(_ data: inout JSONValue, sequence: Int) {
        guard case .object(var object) = data else { return }
        for key in ["case", "incentive", "customer"] {
            if case .object(var inner)? = object[key] {
                inner["id"] = .string("\(key == "customer" ? "user" : key == "case" ? "case" : "inc")_\(10_000 + sequence)")
                object[key] = .object(inner)
            }
        }
        data = .object(object)
    }

    /// Stops producing and delivering, lets requests in flight finish, and stops the receivers.
    public func stop() async {
        await dispatcher.stop()
        let running = tasks.withLock { $0 }
        for task in running { task.cancel() }
        for task in running { _ = await task.value }
        for receiver in receivers.withLock({ $0 }) { await receiver.stop() }
        await transport.shutdown()
    }
}
