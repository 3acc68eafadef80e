import ArgumentParser
import Dispatch
import Foundation
import HooklineCore
import HooklineServer
import Hummingbird
import Logging
import Metrics
import Prometheus

struct ServeCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the dispatcher (and, with --listen, the ingest API, health and metrics).",
        discussion: """
            SIGINT or SIGTERM stops claiming, lets requests in flight finish within the timeout, gives back \
            the rest and exits 0. Durations take a unit: 500ms, 5s, 5m, 2h, 5d. Every flag can also be set in \
            a YAML file given with --config (same names, with underscores: retry_schedule: 0s,5s); flags win.
            """)

    static var defaultLogLevel: Logger.Level { .info }

    @Flag(help: "Exit 0 once no delivery is pending or sending (for scripts and tests).")
    var drain = false
    @Option(help: ArgumentHelp("A YAML file of settings (the flags' names with underscores).", valueName: "file"))
    var config: String?
    @Option(name: .customLong("retry-schedule"), help: ArgumentHelp("Delay before each attempt (default 0s,5s,5m,30m,2h,5h,10h,10h).", valueName: "0s,5s,…"))
    var retrySchedule: String?
    @Option(help: ArgumentHelp("Whole-request time limit (default 15s).", valueName: "duration"))
    var timeout: String?
    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Time limit to connect (default 5s).", valueName: "duration"))
    var connectTimeout: String?
    @Flag(name: .customLong("allow-private-networks"), help: "Deliver to loopback, private and link-local addresses too.")
    var allowPrivateNetworks = false
    @Option(help: ArgumentHelp("Requests in flight in all at most (default 256).", valueName: "n"))
    var concurrency: Int?
    @Option(name: .customLong("endpoint-concurrency"), help: ArgumentHelp("Requests in flight per endpoint at most (default 8).", valueName: "n"))
    var endpointConcurrency: Int?
    @Option(help: ArgumentHelp("How long a claim holds before another dispatcher may retry it (default 60s).", valueName: "duration"))
    var lease: String?
    @Option(name: .customLong("breaker-failures"), help: ArgumentHelp("Consecutive failures that open a breaker (default 5).", valueName: "n"))
    var breakerFailures: Int?
    @Option(name: .customLong("breaker-ratio"), help: ArgumentHelp("Failure ratio over the window that opens a breaker (default 0.5).", valueName: "0-1"))
    var breakerRatio: Double?
    @Option(name: .customLong("breaker-min-attempts"), help: ArgumentHelp("Attempts in the window before the ratio counts (default 20).", valueName: "n"))
    var breakerMinimumAttempts: Int?
    @Option(name: .customLong("breaker-window"), help: ArgumentHelp("The breaker's window (default 5m).", valueName: "duration"))
    var breakerWindow: String?
    @Option(name: .customLong("breaker-open"), help: ArgumentHelp("How long a breaker stays open at first, doubling per re-trip (default 30s).", valueName: "duration"))
    var breakerOpen: String?
    @Option(name: .customLong("breaker-max-open"), help: ArgumentHelp("The longest a breaker stays open (default 10m).", valueName: "duration"))
    var breakerMaximumOpen: String?
    @Option(name: .customLong("auto-disable-after"), help: ArgumentHelp("Disable an endpoint after nothing but failures for this long (default 5d).", valueName: "duration"))
    var autoDisableAfter: String?
    @Option(help: ArgumentHelp("Serve the ingest API, health and metrics on this address (off unless given).", valueName: "addr:port"))
    var listen: String?
    @Option(name: .customLong("api-token"), help: ArgumentHelp("The bearer token producers must send (default: $HOOKLINE_API_TOKEN).", valueName: "token"))
    var apiToken: String?
    @Flag(name: .customLong("insecure-no-auth"), help: "Accept events without a token (loopback addresses only).")
    var insecureNoAuth = false
    @Option(name: .customLong("max-body"), help: ArgumentHelp("The largest event request body in bytes (default 262144).", valueName: "bytes"))
    var maxBody: Int?
    @Option(name: .customLong("ingest-rate-limit"), help: ArgumentHelp("Events per second accepted through the API at most (default: no limit).", valueName: "n"))
    var ingestRateLimit: Double?
    @Option(name: .customLong("log-format"), help: ArgumentHelp("text, or json for one object per line.", valueName: "format"))
    var logFormat: String?
    @Option(name: .customLong("alert-url"), help: ArgumentHelp(
        "Post alerts here (a Slack incoming webhook works): breakers opening and closing, endpoints disabled, permanent failures (grouped, at most one a minute per endpoint).",
        valueName: "url"))
    var alertURL: String?
    @Option(help: ArgumentHelp("Remove events older than this whose deliveries all succeeded, or 'off' (default 30d).", valueName: "duration"))
    var retention: String?
    @OptionGroup var store: StoreOptions

    /// The logging setup reads `--log-format` before anything logs.
    static var logDestination: LogDestination {
        let arguments = CommandLine.arguments
        if let index = arguments.firstIndex(of: "--log-format"), index + 1 < arguments.count, arguments[index + 1] == "json" {
            return .jsonStandardError
        }
        return .standardError
    }

    func duration(_ flag: String?, _ settings: ServeSettings, _ key: String, default fallback: String) throws(HooklineError) -> TimeInterval {
        try DurationOption.seconds(flag ?? settings.text(key) ?? fallback, flag: key.replacingOccurrences(of: "_", with: "-"))
    }

    func makeConfiguration(_ settings: ServeSettings) throws(HooklineError) -> DispatcherConfiguration {
        let schedule = try RetryPolicy.parseSchedule(retrySchedule ?? settings.text("retry_schedule") ?? "0s,5s,5m,30m,2h,5h,10h,10h")
        let failures = breakerFailures ?? settings.integer("breaker_failures") ?? 5
        let ratio = breakerRatio ?? settings.number("breaker_ratio") ?? 0.5
        let minimumAttempts = breakerMinimumAttempts ?? settings.integer("breaker_min_attempts") ?? 20
        guard failures >= 1 else { throw .invalidInput("--breaker-failures must be at least 1.") }
        guard ratio > 0, ratio <= 1 else { throw .invalidInput("--breaker-ratio must be above 0 and at most 1.") }
        guard minimumAttempts >= 1 else { throw .invalidInput("--breaker-min-attempts must be at least 1.") }
        let breaker = BreakerConfiguration(
            consecutiveFailures: failures, windowMinimumAttempts: minimumAttempts, windowFailureRatio: ratio,
            window: try duration(breakerWindow, settings, "breaker_window", default: "5m"),
            openInterval: try duration(breakerOpen, settings, "breaker_open", default: "30s"),
            maximumOpenInterval: try duration(breakerMaximumOpen, settings, "breaker_max_open", default: "10m"))
        guard breaker.openInterval > 0, breaker.maximumOpenInterval >= breaker.openInterval else {
            throw .invalidInput("--breaker-open must be above 0 and at most --breaker-max-open.")
        }
        let planner = DeliveryPlanner(
            retry: RetryPolicy(schedule: schedule), breaker: breaker,
            autoDisableAfter: try duration(autoDisableAfter, settings, "auto_disable_after", default: "5d"))
        let configuration = DispatcherConfiguration(
            planner: planner,
            concurrencyPerEndpoint: endpointConcurrency ?? settings.integer("endpoint_concurrency") ?? 8,
            totalConcurrency: concurrency ?? settings.integer("concurrency") ?? 256,
            requestTimeout: try duration(timeout, settings, "timeout", default: "15s"),
            lease: try duration(lease, settings, "lease", default: "60s"))
        try configuration.validate()
        return configuration
    }

    /// The ingest API's address and settings, or nil when --listen is not given.
    func makeListener(_ settings: ServeSettings) throws(HooklineError) -> (host: String, port: Int, api: IngestAPI.Configuration)? {
        guard let listen = listen ?? settings.text("listen") else { return nil }
        let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65_535).contains(port) else {
            throw .invalidInput("--listen '\(listen)' must be ADDRESS:PORT, such as 127.0.0.1:8080.")
        }
        var host = parts.dropLast().joined(separator: ":")
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .invalidInput("--listen '\(listen)' has no address; use 0.0.0.0:\(port) for every interface.") }
        let token = apiToken ?? settings.text("api_token") ?? ProcessInfo.processInfo.environment["HOOKLINE_API_TOKEN"]
        let noAuth = insecureNoAuth || (settings.boolean("insecure_no_auth") ?? false)
        if let token {
            guard token.count >= 16 else { throw .invalidInput("The API token is \(token.count) characters long; use at least 16, for example `openssl rand -hex 32`.") }
        } else if !noAuth {
            throw .invalidInput("--listen needs --api-token (or $HOOKLINE_API_TOKEN), or --insecure-no-auth on a loopback address.")
        } else if !["127.0.0.1", "::1", "localhost"].contains(host) {
            throw .invalidInput("--insecure-no-auth is allowed only on a loopback address (127.0.0.1 or ::1), not \(host).")
        }
        let maximumBody = maxBody ?? settings.integer("max_body") ?? 256 * 1024
        guard maximumBody >= 1024, maximumBody <= 64 * 1024 * 1024 else {
            throw .invalidInput("--max-body must be between 1024 and 67108864 bytes.")
        }
        let rate = ingestRateLimit ?? settings.number("ingest_rate_limit")
        if let rate, !(rate > 0) { throw .invalidInput("--ingest-rate-limit must be above 0 events per second.") }
        return (host, port, IngestAPI.Configuration(token: token, maximumBodyBytes: maximumBody, rateLimit: rate))
    }

    /// The alert notifier and its own transport (it may reach private networks: the operator chose
    /// the URL), or nil without --alert-url.
    func makeNotifier(_ settings: ServeSettings) throws(HooklineError) -> (AlertNotifier, AsyncHTTPTransport)? {
        guard let url = alertURL ?? settings.text("alert_url") else { return nil }
        let target = try AlertTarget(url: url)
        // The notifier retries on its own schedule; the client need not keep trying to connect.
        let transport = AsyncHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectionsPerHost: 2, retryConnecting: false)
        return (AlertNotifier(configuration: .init(target: target), transport: transport), transport)
    }

    /// The retention period, or nil for `off`.
    func retentionPeriod(_ settings: ServeSettings) throws(HooklineError) -> TimeInterval? {
        let text = retention ?? settings.text("retention") ?? "30d"
        if text == "off" { return nil }
        guard let seconds = DurationText.parse(text), seconds >= 1 else {
            throw .invalidInput("--retention '\(text)' must be a duration of at least 1s, such as 30d, or 'off' to keep everything.")
        }
        return seconds
    }

    func execute() async throws {
        // A file-size limit (ulimit -f) then makes a write fail with an error serve reports and
        // retries, instead of killing the process with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        // SIGINT and SIGTERM are caught from the start: one that arrives while the store opens
        // stops the dispatcher as soon as it exists, and serve still exits 0.
        let stopper = Stopper()
        let signals = SignalTrap { await stopper.stop() }
        defer { signals.cancel() }
        let settings = try config.map { path throws(HooklineError) in try ServeSettings.load(path) } ?? ServeSettings()
        if let format = logFormat ?? settings.text("log_format"), !["text", "json"].contains(format) {
            throw HooklineError.invalidInput("--log-format must be text or json, not '\(format)'.")
        }
        let configuration = try makeConfiguration(settings)
        let connect = try duration(connectTimeout, settings, "connect_timeout", default: "5s")
        guard connect > 0 else { throw HooklineError.invalidInput("--connect-timeout must be above 0.") }
        let listener = try makeListener(settings)
        let retentionPeriod = try retentionPeriod(settings)
        let alerts = try makeNotifier(settings)
        var storeOptions = store
        if storeOptions.db == nil { storeOptions.db = settings.text("db") }
        let storeHandle = try await storeOptions.open(creating: true)
        let allowPrivate = allowPrivateNetworks || (settings.boolean("allow_private_networks") ?? false)
        // Pooled per host, and many customers' endpoints share a host (one receiver service, one
        // platform): the pool allows the whole budget, the dispatcher keeps each endpoint to its own.
        let transport = AsyncHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: allowPrivate), connectTimeout: connect,
            connectionsPerHost: configuration.totalConcurrency)
        let registry = PrometheusCollectorRegistry()
        if listener != nil {
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        }
        let notifier = alerts?.0
        let dispatcher = Dispatcher(
            store: storeHandle, transport: transport, configuration: configuration, notices: { notifier?.notify($0) })
        await stopper.attach(dispatcher)
        let alerting = Task { if let notifier { await notifier.run() } }
        let finishAlerts: @Sendable () async -> Void = { await Self.finishAlerts(alerts, task: alerting) }
        let pruning = Task {
            guard let retentionPeriod else { return }
            await RetentionWorker(operations: Operations(store: storeHandle, actor: .system), retention: retentionPeriod).run()
        }
        defer {
            pruning.cancel()
        }

        var server: Task<Void, any Error>?
        if let listener {
            let operations = Operations(store: storeHandle, actor: .api, groupCommits: true)
            let api = IngestAPI(
                operations: operations, configuration: listener.api,
                onAccepted: { await dispatcher.wake() }, dispatcherRunning: { await dispatcher.isRunning },
                metricsText: { registry.emitToBuffer() })
            var logger = Logger(label: "hookline.api")
            logger.logLevel = .warning
            let app = Application(
                router: api.router(), configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "hookline"),
                onServerRunning: { channel in
                    Logger(label: "hookline.api").info("ingest API listening", metadata: ["api.address": "\(channel.localAddress?.description ?? "-")"])
                },
                logger: logger)
            server = Task { try await app.runService(gracefulShutdownSignals: []) }
            let gauges = Task { await Self.sampleGauges(storeHandle) }
            defer { gauges.cancel() }
            try await runDispatcher(dispatcher, transport: transport, server: server, finishAlerts: finishAlerts)
        } else {
            try await runDispatcher(dispatcher, transport: transport, server: nil, finishAlerts: finishAlerts)
        }
    }

    func runDispatcher(
        _ dispatcher: Dispatcher, transport: AsyncHTTPTransport, server: Task<Void, any Error>?,
        finishAlerts: @Sendable () async -> Void
    ) async throws {
        do {
            try await dispatcher.run(drain ? .drain : .continuous)
        } catch {
            server?.cancel()
            await transport.shutdown()
            await finishAlerts()
            throw error
        }
        await finishAlerts()
        server?.cancel()
        if let server, case .failure(let error) = await server.result, !(error is CancellationError) {
            await transport.shutdown()
            throw HooklineError.invalidInput("The ingest API could not listen (\(error)); pick another --listen address or port.")
        }
        await transport.shutdown()
    }

    /// Posts the alerts still queued (grouped failures at once), for at most 30 s, then closes the
    /// alert transport.
    static func finishAlerts(_ alerts: (AlertNotifier, AsyncHTTPTransport)?, task: Task<Void, Never>) async {
        guard let (notifier, transport) = alerts else { return }
        notifier.finish()
        let deadline = Task {
            try? await Task.sleep(for: .seconds(30))
            task.cancel()
        }
        await task.value
        deadline.cancel()
        await transport.shutdown()
    }

    /// Pending, held and failed deliveries and the breakers that are not closed as gauges, every 5 s
    /// (breakers also change from other processes, such as a reset from the CLI). A breaker that
    /// closes is reported once as 0; closed breakers are not read, however many endpoints exist.
    static func sampleGauges(_ store: any HooklineStore) async {
        var reported = Set<String>()
        while !Task.isCancelled {
            if let counts = try? await store.deliveryCounts() {
                Gauge(label: "hookline_pending_deliveries").record(counts.pending)
                Gauge(label: "hookline_held_deliveries").record(counts.held)
                Gauge(label: "hookline_failed_deliveries").record(counts.failed)
            }
            if let breakers = try? await store.breakers(endpointIDs: reported.sorted(), orNotClosed: true) {
                var open = Set<String>()
                for breaker in breakers {
                    Gauge(label: "hookline_breaker_state", dimensions: [("endpoint", breaker.endpointID)])
                        .record(breaker.state == .closed ? 0 : (breaker.state == .halfOpen ? 1 : 2))
                    if breaker.state != .closed { open.insert(breaker.endpointID) }
                }
                reported = open
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }
}

/// Remembers a stop asked for before the dispatcher exists, and passes it on once it does.
actor Stopper {
    private var dispatcher: Dispatcher?
    private var requested = false

    func stop() async {
        requested = true
        await dispatcher?.stop()
    }

    func attach(_ dispatcher: Dispatcher) async {
        self.dispatcher = dispatcher
        if requested { await dispatcher.stop() }
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
