import ArgumentParser
import Foundation
import HooklineCore
import HooklineHTTP
import HooklineServer
import HooklineTelemetry
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Tracing
import UnixSignals

struct ServeCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the dispatcher (and, with --listen, the ingest API, health and metrics).",
        discussion: """
            SIGINT or SIGTERM stops accepting API connections (requests already read are answered), stops \
            claiming, lets deliveries in flight finish within the timeout, gives back the rest and exits 0. Durations take a unit: 500ms, 5s, 5m, 2h, 5d. Every flag can also be set in \
            a YAML file given with --config (same names, with underscores: retry_schedule: 0s,5s); flags win.
            """)

    static var defaultLogLevel: Logger.Level { .info }

    @Flag(help: "Exit 0 once no delivery is pending or sending (for scripts and tests).")
    var drain = false
    @Option(help: ArgumentHelp("A YAML file of settings (the flags' names with underscores).", valueName: "file"))
    var config: String?
    @Option(name: .customLong(S.retrySchedule.name), help: S.retrySchedule.help) var retrySchedule: String?
    @Option(name: .customLong(S.timeout.name), help: S.timeout.help) var timeout: String?
    @Option(name: .customLong(S.connectTimeout.name), help: S.connectTimeout.help) var connectTimeout: String?
    @Flag(name: .customLong(S.allowPrivateNetworks.name), help: ArgumentHelp(S.allowPrivateNetworks.summary)) var allowPrivateNetworks = false
    @Option(name: .customLong(S.concurrency.name), help: S.concurrency.help) var concurrency: String?
    @Option(name: .customLong(S.endpointConcurrency.name), help: S.endpointConcurrency.help) var endpointConcurrency: String?
    @Option(name: .customLong(S.lease.name), help: S.lease.help) var lease: String?
    @Option(name: .customLong(S.breakerFailures.name), help: S.breakerFailures.help) var breakerFailures: String?
    @Option(name: .customLong(S.breakerRatio.name), help: S.breakerRatio.help) var breakerRatio: String?
    @Option(name: .customLong(S.breakerMinimumAttempts.name), help: S.breakerMinimumAttempts.help) var breakerMinimumAttempts: String?
    @Option(name: .customLong(S.breakerWindow.name), help: S.breakerWindow.help) var breakerWindow: String?
    @Option(name: .customLong(S.breakerOpen.name), help: S.breakerOpen.help) var breakerOpen: String?
    @Option(name: .customLong(S.breakerMaximumOpen.name), help: S.breakerMaximumOpen.help) var breakerMaximumOpen: String?
    @Option(name: .customLong(S.autoDisableAfter.name), help: S.autoDisableAfter.help) var autoDisableAfter: String?
    @Option(name: .customLong(S.listen.name), help: S.listen.help) var listen: String?
    @Option(name: .customLong(S.apiToken.name), help: S.apiToken.help) var apiToken: String?
    @Flag(name: .customLong(S.insecureNoAuth.name), help: ArgumentHelp(S.insecureNoAuth.summary)) var insecureNoAuth = false
    @Option(name: .customLong(S.maxBody.name), help: S.maxBody.help) var maxBody: String?
    @Option(name: .customLong(S.ingestRateLimit.name), help: S.ingestRateLimit.help) var ingestRateLimit: String?
    @Option(name: .customLong(S.maxConnections.name), help: S.maxConnections.help) var maxConnections: String?
    @Option(name: .customLong(S.readTimeout.name), help: S.readTimeout.help) var readTimeout: String?
    @Option(name: .customLong(S.idleTimeout.name), help: S.idleTimeout.help) var idleTimeout: String?
    @Option(name: .customLong(S.logFormat.name), help: S.logFormat.help) var logFormat: String?
    @Option(name: .customLong(S.alertURL.name), help: S.alertURL.help) var alertURL: String?
    @Option(name: .customLong(S.proxy.name), help: S.proxy.help) var proxy: String?
    @Flag(name: .customLong(S.proxyFromEnvironment.name), help: ArgumentHelp(S.proxyFromEnvironment.summary)) var proxyFromEnvironment = false
    @Option(name: .customLong(S.retention.name), help: S.retention.help) var retention: String?
    @Option(name: .customLong(S.otelEndpoint.name), help: S.otelEndpoint.help) var otelEndpoint: String?
    @Flag(name: .customLong(S.propagateTrace.name), help: ArgumentHelp(S.propagateTrace.summary)) var propagateTrace = false
    @OptionGroup var store: StoreOptions

    private typealias S = ServeSettingList

    func loadSettings() throws(HooklineError) -> ServeSettings {
        try config.map { path throws(HooklineError) in try ServeSettings.load(path) } ?? ServeSettings()
    }

    /// Logging is set up once the settings are read, so that `--log-format=json` and
    /// `log_format: json` in the config file both take effect before anything logs.
    func logDestination() throws(HooklineError) -> LogDestination {
        try S.logFormat.value(logFormat, loadSettings()) == .json ? .jsonStandardError : .standardError
    }

    func makeConfiguration(_ settings: ServeSettings) throws(HooklineError) -> DispatcherConfiguration {
        let breaker = BreakerConfiguration(
            consecutiveFailures: try S.breakerFailures.value(breakerFailures, settings),
            windowMinimumAttempts: try S.breakerMinimumAttempts.value(breakerMinimumAttempts, settings),
            windowFailureRatio: try S.breakerRatio.value(breakerRatio, settings),
            window: try S.breakerWindow.value(breakerWindow, settings),
            openInterval: try S.breakerOpen.value(breakerOpen, settings),
            maximumOpenInterval: try S.breakerMaximumOpen.value(breakerMaximumOpen, settings))
        guard breaker.maximumOpenInterval >= breaker.openInterval else {
            throw .invalidInput("--breaker-open must be at most --breaker-max-open.")
        }
        let planner = DeliveryPlanner(
            retry: RetryPolicy(schedule: try S.retrySchedule.value(retrySchedule, settings)), breaker: breaker,
            autoDisableAfter: try S.autoDisableAfter.value(autoDisableAfter, settings))
        let configuration = DispatcherConfiguration(
            planner: planner,
            concurrencyPerEndpoint: try S.endpointConcurrency.value(endpointConcurrency, settings),
            totalConcurrency: try S.concurrency.value(concurrency, settings),
            requestTimeout: try S.timeout.value(timeout, settings),
            lease: try S.lease.value(lease, settings))
        try configuration.validate()
        return configuration
    }

    /// What `--listen` serves, or nil when it is not given.
    struct Listener {
        var host: String
        var port: Int
        var api: IngestAPI.Configuration
        var limits: ConnectionGuard.Limits
    }

    /// The ingest API's address and settings, or nil when --listen is not given.
    /// Every setting is checked, whether --listen is given or not.
    func makeListener(_ settings: ServeSettings) throws(HooklineError) -> Listener? {
        let maximumBody = try S.maxBody.value(maxBody, settings)
        let rateLimit = try S.ingestRateLimit.resolve(ingestRateLimit, settings)
        let limits = ConnectionGuard.Limits(
            maximumConnections: try S.maxConnections.value(maxConnections, settings),
            readTimeout: .milliseconds(Int64(try S.readTimeout.value(readTimeout, settings) * 1000)),
            idleTimeout: .milliseconds(Int64(try S.idleTimeout.value(idleTimeout, settings) * 1000)))
        let token = try S.apiToken.resolve(apiToken, settings) ?? ProcessInfo.processInfo.environment["HOOKLINE_API_TOKEN"]
        let noAuth = try S.insecureNoAuth.isOn(insecureNoAuth, settings)
        guard let listen = try S.listen.resolve(self.listen, settings) else { return nil }
        let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65_535).contains(port) else {
            throw .invalidInput("--listen '\(listen)' must be ADDRESS:PORT, such as 127.0.0.1:8080.")
        }
        var host = parts.dropLast().joined(separator: ":")
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .invalidInput("--listen '\(listen)' has no address; use 0.0.0.0:\(port) for every interface.") }
        if let token {
            guard token.count >= 16 else { throw .invalidInput("The API token is \(token.count) characters long; use at least 16, for example `openssl rand -hex 32`.") }
        } else if !noAuth {
            throw .invalidInput("--listen needs --api-token (or $HOOKLINE_API_TOKEN), or --insecure-no-auth on a loopback address.")
        } else if !["127.0.0.1", "::1", "localhost"].contains(host) {
            throw .invalidInput("--insecure-no-auth is allowed only on a loopback address (127.0.0.1 or ::1), not \(host).")
        }
        let api = IngestAPI.Configuration(token: token, maximumBodyBytes: maximumBody, rateLimit: rateLimit)
        return Listener(host: host, port: port, api: api, limits: limits)
    }

    /// The alert service with its own transport (it may reach private networks, and does not go
    /// through --proxy: the operator chose the URL, often an internal one), or nil without --alert-url.
    /// The collector's URL and whether attempts carry their traceparent, or nil without --otel-endpoint.
    func makeTracing(_ settings: ServeSettings) throws(HooklineError) -> (endpoint: String, propagate: Bool)? {
        let propagate = try S.propagateTrace.isOn(propagateTrace, settings)
        guard let endpoint = try S.otelEndpoint.resolve(otelEndpoint, settings) else {
            if propagate { throw .invalidInput("--propagate-trace sends the attempts' trace context, which needs --otel-endpoint URL.") }
            return nil
        }
        if let problem = TraceExport.problem(with: endpoint) { throw .invalidInput(problem) }
        return (endpoint, propagate)
    }

    func makeAlerts(_ settings: ServeSettings) throws(HooklineError) -> AlertService? {
        guard let url = try S.alertURL.resolve(alertURL, settings) else { return nil }
        let target = try AlertTarget(url: url)
        // The notifier retries on its own schedule; the client need not keep trying to connect.
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectionsPerHost: 2)
        return AlertService(AlertNotifier(configuration: .init(target: target), transport: transport), transport: transport)
    }

    func execute() async throws {
        // A file-size limit (ulimit -f) then makes a write fail with an error serve reports and
        // retries, instead of killing the process with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        // SIGINT and SIGTERM are caught from the start: one that arrives while the store opens
        // shuts the service group down as soon as it exists, and serve still exits 0.
        let shutdown = await ShutdownSignals()
        let settings = try loadSettings()
        var configuration = try makeConfiguration(settings)
        let tracing = try makeTracing(settings)
        let connect = try S.connectTimeout.value(connectTimeout, settings)
        let listener = try makeListener(settings)
        let retentionPeriod = try S.retention.value(retention, settings)
        let alerts = try makeAlerts(settings)
        let egress = try ProxyOptions.egressProxy(
            url: try S.proxy.resolve(proxy, settings), fromEnvironment: try S.proxyFromEnvironment.isOn(proxyFromEnvironment, settings),
            source: proxy == nil ? "proxy in the config file" : "--proxy")
        var storeOptions = store
        if storeOptions.db == nil { storeOptions.db = try S.db.resolve(nil, settings) }
        let storeHandle = try await storeOptions.open(creating: true)
        var traceExport: (tracer: any Tracer, service: any Service)?
        if let tracing {
            do {
                traceExport = try TraceExport.make(TraceExport.Settings(endpoint: tracing.endpoint), logger: Logger(label: "hookline.telemetry"))
            } catch {
                throw HooklineError.invalidInput("The OTLP exporter could not be set up for \(tracing.endpoint) (\(error)); check --otel-endpoint.")
            }
            configuration.tracing = AttemptTracing(tracer: traceExport!.tracer, propagate: tracing.propagate)
        }
        // Pooled per host, and many customers' endpoints share a host (one receiver service, one
        // platform): the pool allows the whole budget, the dispatcher keeps each endpoint to its own.
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: try S.allowPrivateNetworks.isOn(allowPrivateNetworks, settings)),
            connectTimeout: connect, connectionsPerHost: configuration.totalConcurrency, proxy: egress)
        let notifier = alerts?.notifier
        let dispatcher = Dispatcher(
            store: storeHandle, transport: transport, configuration: configuration, notices: { notifier?.notify($0) })

        // Shut down in reverse order: the API stops accepting and answers what it has read, the
        // dispatcher finishes its requests in flight and gives back the rest, then the alerts
        // queued meanwhile are posted.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // Stopped last, so that the spans of the last attempts are sent.
        if let traceExport { services.append(.init(service: traceExport.service)) }
        if let alerts { services.append(.init(service: alerts)) }
        if let retentionPeriod {
            services.append(.init(service: RetentionService(
                RetentionWorker(operations: Operations(store: storeHandle, actor: .system), retention: retentionPeriod))))
        }
        services.append(.init(
            service: DispatcherService(dispatcher, mode: drain ? .drain : .continuous),
            successTerminationBehavior: .gracefullyShutdownGroup))
        if let listener {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            services.insert(.init(service: GaugeSampler(store: storeHandle)), at: services.count - 1)
            services.append(.init(service: makeAPI(listener, storeHandle, dispatcher, transport, registry, tracer: traceExport?.tracer)))
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: Logger(label: "hookline.serve"))
        groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
        let group = ServiceGroup(configuration: groupConfiguration)
        await shutdown.attach(group)
        defer { shutdown.cancel() }
        do {
            try await group.run()
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }

    /// The ingest and management APIs, health and metrics behind the connection guard; test sends
    /// go out with the dispatcher's transport (and its network guard).
    func makeAPI(
        _ listener: Listener, _ store: any HooklineStore, _ dispatcher: Dispatcher, _ transport: any HTTPTransport,
        _ registry: PrometheusCollectorRegistry, tracer: (any Tracer)?
    ) -> APIService {
        let api = IngestAPI(
            operations: Operations(store: store, actor: .api, groupCommits: true), configuration: listener.api,
            onAccepted: { await dispatcher.wake() }, dispatcherRunning: { await dispatcher.isRunning },
            metricsText: { registry.emitToBuffer() }, testTransport: transport, tracer: tracer)
        var logger = Logger(label: "hookline.api")
        logger.logLevel = .warning
        let connections = ConnectionGuard(limits: listener.limits)
        let app = Application(
            router: api.router(), server: connections.http1(),
            configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "hookline"),
            onServerRunning: { channel in
                Logger(label: "hookline.api").info("ingest API listening", metadata: ["api.address": "\(channel.localAddress?.description ?? "-")"])
            },
            logger: logger)
        return APIService(app: app, address: "\(listener.host):\(listener.port)")
    }
}

/// The Hummingbird application, with a failure to listen said in one sentence.
struct APIService: Service {
    let app: Application<RouterResponder<APIContext>>
    let address: String

    func run() async throws {
        do {
            try await app.run()
        } catch {
            throw HooklineError.invalidInput("The ingest API could not listen on \(address) (\(error)); pick another --listen address or port.")
        }
    }
}

/// SIGINT and SIGTERM from the very start of `serve`: a signal that arrives before the service
/// group exists is kept and shuts the group down as soon as it is attached.
actor ShutdownSignals {
    private var group: ServiceGroup?
    private var requested = false
    private var watcher: Task<Void, Never>?

    init() async {
        // Traps the signals now (the sequence ignores their default action as it is made).
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        watcher = Task { [weak self] in
            for await _ in signals { await self?.fire() }
        }
    }

    private func fire() async {
        requested = true
        await group?.triggerGracefulShutdown()
    }

    func attach(_ group: ServiceGroup) async {
        self.group = group
        if requested { await group.triggerGracefulShutdown() }
    }

    nonisolated func cancel() {
        Task { await self.stopWatching() }
    }

    private func stopWatching() {
        watcher?.cancel()
    }
}
