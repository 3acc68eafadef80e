import ArgumentParser
import Dispatch
import Foundation
import HooklineCore
import Logging

struct ServeCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the dispatcher: deliver due deliveries with retries, breakers and rate limits.",
        discussion: """
            SIGINT or SIGTERM stops claiming, lets requests in flight finish within the timeout, gives back \
            the rest and exits 0. Durations take a unit: 500ms, 5s, 5m, 2h, 5d.
            """)

    static var defaultLogLevel: Logger.Level { .info }

    @Flag(help: "Exit 0 once no delivery is pending or sending (for scripts and tests).")
    var drain = false
    @Option(name: .customLong("retry-schedule"), help: ArgumentHelp("Delay before each attempt.", valueName: "0s,5s,5m,…"))
    var retrySchedule = "0s,5s,5m,30m,2h,5h,10h,10h"
    @Option(help: ArgumentHelp("Whole-request time limit.", valueName: "duration"))
    var timeout = "15s"
    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Time limit to connect.", valueName: "duration"))
    var connectTimeout = "5s"
    @Flag(name: .customLong("allow-private-networks"), help: "Deliver to loopback, private and link-local addresses too.")
    var allowPrivateNetworks = false
    @Option(help: ArgumentHelp("Requests in flight in all at most.", valueName: "n"))
    var concurrency = 256
    @Option(name: .customLong("endpoint-concurrency"), help: ArgumentHelp("Requests in flight per endpoint at most.", valueName: "n"))
    var endpointConcurrency = 8
    @Option(help: ArgumentHelp("How long a claim holds before another dispatcher may retry it.", valueName: "duration"))
    var lease = "60s"
    @Option(name: .customLong("breaker-failures"), help: ArgumentHelp("Consecutive failures that open a breaker.", valueName: "n"))
    var breakerFailures = 5
    @Option(name: .customLong("breaker-ratio"), help: ArgumentHelp("Failure ratio over the window that opens a breaker.", valueName: "0-1"))
    var breakerRatio = 0.5
    @Option(name: .customLong("breaker-min-attempts"), help: ArgumentHelp("Attempts in the window before the ratio counts.", valueName: "n"))
    var breakerMinimumAttempts = 20
    @Option(name: .customLong("breaker-window"), help: ArgumentHelp("The breaker's window.", valueName: "duration"))
    var breakerWindow = "5m"
    @Option(name: .customLong("breaker-open"), help: ArgumentHelp("How long a breaker stays open at first (doubles per re-trip).", valueName: "duration"))
    var breakerOpen = "30s"
    @Option(name: .customLong("breaker-max-open"), help: ArgumentHelp("The longest a breaker stays open.", valueName: "duration"))
    var breakerMaximumOpen = "10m"
    @Option(name: .customLong("auto-disable-after"), help: ArgumentHelp("Disable an endpoint after nothing but failures for this long.", valueName: "duration"))
    var autoDisableAfter = "5d"
    @OptionGroup var store: StoreOptions

    func duration(_ text: String, _ flag: String) throws(HooklineError) -> TimeInterval {
        guard let seconds = DurationText.parse(text) else {
            throw .invalidInput("--\(flag) '\(text)' is not a duration; write it with a unit, such as 500ms, 15s, 5m, 2h or 5d.")
        }
        return seconds
    }

    func makeConfiguration() throws(HooklineError) -> DispatcherConfiguration {
        let schedule = try RetryPolicy.parseSchedule(retrySchedule)
        guard breakerFailures >= 1 else { throw .invalidInput("--breaker-failures must be at least 1.") }
        guard breakerRatio > 0, breakerRatio <= 1 else { throw .invalidInput("--breaker-ratio must be above 0 and at most 1.") }
        guard breakerMinimumAttempts >= 1 else { throw .invalidInput("--breaker-min-attempts must be at least 1.") }
        let breaker = BreakerConfiguration(
            consecutiveFailures: breakerFailures, windowMinimumAttempts: breakerMinimumAttempts,
            windowFailureRatio: breakerRatio, window: try duration(breakerWindow, "breaker-window"),
            openInterval: try duration(breakerOpen, "breaker-open"), maximumOpenInterval: try duration(breakerMaximumOpen, "breaker-max-open"))
        guard breaker.openInterval > 0, breaker.maximumOpenInterval >= breaker.openInterval else {
            throw .invalidInput("--breaker-open must be above 0 and at most --breaker-max-open.")
        }
        let planner = DeliveryPlanner(
            retry: RetryPolicy(schedule: schedule), breaker: breaker,
            autoDisableAfter: try duration(autoDisableAfter, "auto-disable-after"))
        let configuration = DispatcherConfiguration(
            planner: planner, concurrencyPerEndpoint: endpointConcurrency, totalConcurrency: concurrency,
            requestTimeout: try duration(timeout, "timeout"), lease: try duration(lease, "lease"))
        try configuration.validate()
        return configuration
    }

    func execute() async throws {
        let configuration = try makeConfiguration()
        let connect = try duration(connectTimeout, "connect-timeout")
        guard connect > 0 else { throw HooklineError.invalidInput("--connect-timeout must be above 0.") }
        let storeHandle = try store.open(creating: true)
        let transport = AsyncHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: allowPrivateNetworks), connectTimeout: connect,
            connectionsPerHost: configuration.concurrencyPerEndpoint)
        let dispatcher = Dispatcher(store: storeHandle, transport: transport, configuration: configuration)
        let signals = SignalTrap { await dispatcher.stop() }
        defer { signals.cancel() }
        do {
            try await dispatcher.run(drain ? .drain : .continuous)
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }
}

/// Turns SIGINT and SIGTERM into a call, instead of killing the process.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(_ action: @escaping @Sendable () async -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await action() } }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
