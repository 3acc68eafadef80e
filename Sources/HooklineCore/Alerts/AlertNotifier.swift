import Foundation
import Logging
import Synchronization

/// Posts operational alerts to one URL: breakers opening and closing, endpoints disabled, and
/// deliveries that failed for good, grouped per endpoint and sent at most once per
/// ``Configuration/failureInterval``.
///
/// ``notify(_:)`` never waits: notices queue up and ``run()`` posts them in order, retrying each a
/// few times, so that a slow or dead alert receiver never holds up a delivery. The URL is logged
/// only as ``AlertTarget/redacted``.
public actor AlertNotifier {
    public struct Configuration: Sendable {
        public var target: AlertTarget
        /// Failures of one endpoint are posted at most this often; those in between are grouped.
        public var failureInterval: TimeInterval
        /// Waits before each retry of an alert that could not be posted.
        public var retryDelays: [TimeInterval]
        /// The time limit of one post.
        public var timeout: TimeInterval

        public init(target: AlertTarget, failureInterval: TimeInterval = 60, retryDelays: [TimeInterval] = [1, 5, 15], timeout: TimeInterval = 10) {
            self.target = target
            self.failureInterval = failureInterval
            self.retryDelays = retryDelays
            self.timeout = timeout
        }
    }

    enum Input: Sendable {
        case notice(DispatchNotice)
        case flushDue
    }

    struct FailureGroup {
        var endpoint: EndpointRef
        var count = 0
        var deliveryIDs: [String] = []
        var eventIDs: [String] = []
        var attempts = 0
        var lastError: String?
    }

    /// The most delivery ids one failure alert lists.
    static let listedFailures = 20

    public let configuration: Configuration
    let transport: any HTTPTransport
    let clock: any HooklineClock
    let logger: Logger
    private let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation
    /// Set by ``finish()``: what is left gets one try each, without waiting to retry.
    private let finishing = Atomic<Bool>(false)
    var groups: [String: FailureGroup] = [:]
    var lastFailureAlert: [String: Date] = [:]
    var flushAt: Date?
    /// Alerts the receiver accepted, and alerts given up after every retry.
    public private(set) var posted = 0
    public private(set) var abandoned = 0

    /// - Parameter transport: the HTTP seam; `serve` gives it one of its own that may reach private
    ///   networks, since the operator chose the URL.
    public init(configuration: Configuration, transport: any HTTPTransport, clock: any HooklineClock = SystemClock(),
                logger: Logger = Logger(label: "hookline.alerts")) {
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.logger = logger
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    /// Queues a notice; returns at once.
    public nonisolated func notify(_ notice: DispatchNotice) {
        continuation.yield(.notice(notice))
    }

    /// Ends ``run()`` once the queued notices are posted (grouped failures included, at once), each
    /// tried once more at most, so that a stopping `serve` is not held up by a dead alert receiver.
    public nonisolated func finish() {
        finishing.store(true, ordering: .relaxed)
        continuation.finish()
    }

    /// Posts notices as they come, until ``finish()``.
    public func run() async {
        logger.info("posting alerts", metadata: ["alert.url": "\(configuration.target.redacted)"])
        for await input in inputs {
            switch input {
            case .notice(.deliveryFailed(let endpoint, let deliveryID, let eventID, let attempts, let lastError)):
                var group = groups[endpoint.id] ?? FailureGroup(endpoint: endpoint)
                group.count += 1
                if group.deliveryIDs.count < Self.listedFailures {
                    group.deliveryIDs.append(deliveryID)
                    group.eventIDs.append(eventID)
                }
                group.attempts = attempts
                group.lastError = lastError ?? group.lastError
                groups[endpoint.id] = group
                await postDueFailures(all: false)
            case .notice(let notice):
                await post(Alert.from(notice, at: clock.now()))
            case .flushDue:
                flushAt = nil
                await postDueFailures(all: false)
            }
        }
        await postDueFailures(all: true)
    }

    /// Posts the failure groups whose endpoint has had no failure alert for the interval (or all of
    /// them), and sets a timer for the next one due.
    func postDueFailures(all: Bool) async {
        let now = clock.now()
        var nextDue: Date?
        for endpointID in groups.keys.sorted() {
            guard let group = groups[endpointID] else { continue }
            let due = lastFailureAlert[endpointID].map { $0.addingTimeInterval(configuration.failureInterval) } ?? now
            guard all || due <= now else {
                nextDue = min(nextDue ?? due, due)
                continue
            }
            groups[endpointID] = nil
            lastFailureAlert[endpointID] = now
            await post(Alert.failures(
                endpoint: group.endpoint, deliveryIDs: group.deliveryIDs, eventIDs: group.eventIDs, count: group.count,
                attempts: group.attempts, lastError: group.lastError, at: now))
        }
        if let nextDue, flushAt.map({ nextDue < $0 }) ?? true {
            flushAt = nextDue
            let continuation = self.continuation, clock = self.clock
            Task {
                await clock.sleep(until: nextDue)
                continuation.yield(.flushDue)
            }
        }
    }

    /// Posts one alert, retrying after each of the configured delays.
    func post(_ alert: Alert) async {
        let target = configuration.target
        let request = OutboundRequest(
            url: target.url, headers: [("Content-Type", "application/json"), ("User-Agent", WebhookSigner.userAgent)],
            body: alert.body, timeout: configuration.timeout)
        let waits = [0] + configuration.retryDelays
        for (index, wait) in waits.enumerated() {
            if wait > 0 {
                if finishing.load(ordering: .relaxed) { break }
                await clock.sleep(until: clock.now().addingTimeInterval(wait))
            }
            let outcome = await transport.send(request)
            if let code = outcome.statusCode, (200..<300).contains(code) {
                posted += 1
                logger.debug("alert posted", metadata: ["alert.kind": "\(alert.kind)", "endpoint.id": "\(alert.endpoint.id)"])
                return
            }
            let problem = outcome.statusCode.map { "HTTP \($0)" } ?? (outcome.errorMessage ?? outcome.errorClass?.rawValue ?? "failed")
            logger.info("posting an alert failed", metadata: [
                "alert.kind": "\(alert.kind)", "alert.url": "\(target.redacted)", "alert.try": "\(index + 1)",
                "error": "\(target.redact(problem))",
            ])
        }
        abandoned += 1
        logger.info("an alert could not be posted after every retry; it is dropped", metadata: [
            "alert.kind": "\(alert.kind)", "alert.url": "\(target.redacted)", "endpoint.id": "\(alert.endpoint.id)",
        ])
    }
}
