import ArgumentParser
import Foundation
import HooklineConsole
import HooklineCore
import HooklineHTTP
import HooklineServer
import HooklineStores
import HooklineTools
import Logging
import UnixSignals

/// `--theme`, `--read-only`, `--refresh`: shared by `console` and `demo`.
struct ConsoleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Console theme: dark, light, high-contrast, monochrome, or one in ~/.config/hookline/themes.", valueName: "name"))
    var theme = "dark"
    @Flag(name: .customLong("read-only"), help: "Refuse every action; only watch.")
    var readOnly = false
    @Option(help: ArgumentHelp("How often the console re-reads the store.", valueName: "duration"))
    var refresh = "1s"
    @Flag(name: .customLong("allow-private-networks"), help: "Let test sends (T) reach loopback, private and link-local addresses.")
    var allowPrivateNetworks = false
    @Flag(name: .customLong("no-mouse"), help: "Leave the mouse to the terminal (its own selection) instead of clicks selecting panes and rows.")
    var noMouse = false
    @OptionGroup var proxy: ProxyOptions

    func sessionOptions() throws(HooklineError) -> ConsoleSession.Options {
        guard let seconds = DurationText.parse(refresh), seconds >= 0.1, seconds <= 3600 else {
            throw .invalidInput("--refresh '\(refresh)' must be a duration from 100ms to 1h, such as 1s.")
        }
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        return ConsoleSession.Options(refreshInterval: seconds, readOnly: readOnly, themeName: theme, noColor: noColor)
    }

    /// Runs a console session on the terminal until `q`; test sends may reach private networks
    /// when `allowPrivateNetworks`, and go through `proxy` when there is one.
    static func run(operations: Operations, options: ConsoleSession.Options, allowPrivateNetworks: Bool, proxy: EgressProxy?, mouse: Bool) async throws {
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: allowPrivateNetworks), connectionsPerHost: 1, proxy: proxy)
        do {
            try await run(operations: operations, options: options, transport: transport, mouse: mouse)
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }

    private static func run(operations: Operations, options: ConsoleSession.Options, transport: NIOHTTPTransport, mouse: Bool) async throws {
        let session = ConsoleSession(operations: operations, options: options, transport: transport)
        let terminal: NCursesTerminal
        do {
            terminal = try NCursesTerminal(mouse: mouse)
        } catch {
            throw HooklineError.invalidInput(error.description)
        }
        let quit = session.quitRequester
        // SIGINT and SIGTERM quit like `q`, restoring the terminal.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let watcher = Task { for await _ in signals { quit() } }
        await session.run(on: terminal)
        watcher.cancel()
        terminal.close()
    }
}

struct ConsoleCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The operations console: subscriptions, events, failed deliveries and breakers, live.",
        discussion: "Press ? inside for the keys. Logs never go to the screen; set HOOKLINE_LOG_FILE to keep them.")

    func logDestination() throws(HooklineError) -> LogDestination { .fileOrNothing }

    @OptionGroup var console: ConsoleOptions
    @OptionGroup var store: StoreOptions

    func execute() async throws {
        let options = try console.sessionOptions()
        let operations = Operations(store: try await store.open(creating: false), actor: .console)
        try await ConsoleOptions.run(operations: operations, options: options, allowPrivateNetworks: console.allowPrivateNetworks, proxy: try console.proxy.egressProxy(), mouse: !console.noMouse)
    }
}

struct DemoCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The console over live demo traffic: \(DemoEnvironment.summary) and a producer.",
        discussion: """
            Everything runs in this process on 127.0.0.1 with an SQLite file (a new one in the temporary \
            directory unless --db). --headless runs without the console for --duration and prints a status line \
            every 5 s (for soak tests).
            """)

    func logDestination() throws(HooklineError) -> LogDestination { .fileOrNothing }

    @Flag(help: "No console: run for --duration and print status lines.") var headless = false
    @Option(help: ArgumentHelp("How long to run (default: until q, or 60s when headless).", valueName: "duration"))
    var duration: String?
    @Option(help: ArgumentHelp("Events emitted per second.", valueName: "n")) var rate = 4.0
    @Option(help: ArgumentHelp("The SQLite database file or a postgres:// URL (default: a new file in the temporary directory).", valueName: "path"))
    var db: String?
    @OptionGroup var console: ConsoleOptions

    func execute() async throws {
        let seconds = try duration.map { text throws(HooklineError) -> TimeInterval in
            guard let value = DurationText.parse(text), value > 0 else {
                throw .invalidInput("--duration '\(text)' is not a duration; write it with a unit, such as 60s or 10m.")
            }
            return value
        } ?? (headless ? 60 : nil)
        guard rate > 0, rate <= 10_000 else { throw HooklineError.invalidInput("--rate must be above 0 and at most 10000 events per second.") }
        let options = try console.sessionOptions()
        let path = db ?? (NSTemporaryDirectory() + "hookline-demo-\(Identifier.ulid().suffix(8).lowercased()).db")
        let store = try await StoreLocation.open(path)
        let demo = DemoEnvironment(store: store)
        try await demo.start(eventsPerSecond: rate)
        if headless {
            let started = Date()
            Output.immediate("Demo running on \(store.location) for \(DurationText.format(seconds ?? 60)).")
            while Date().timeIntervalSince(started) < (seconds ?? 60) {
                try await Task.sleep(for: .seconds(min(5, max(0.1, (seconds ?? 60) - Date().timeIntervalSince(started)))))
                let counts = try await store.deliveryCounts()
                let rss = ProcessMemory.resident.map { "\($0 / 1024 / 1024) MB" } ?? "-"
                Output.immediate("\(Timestamp.iso8601(Date()))  events \(demo.emitted.load(ordering: .relaxed))  pending \(counts.pending)  failed \(counts.failed)  held \(counts.held)  rss \(rss)")
            }
        } else {
            // The demo's receivers are on 127.0.0.1: its test sends must reach them.
            let consoleTask = Task {
                try await ConsoleOptions.run(operations: Operations(store: store, actor: .console), options: options, allowPrivateNetworks: true, proxy: try console.proxy.egressProxy(), mouse: !console.noMouse)
            }
            if let seconds {
                let timer = Task {
                    try await Task.sleep(for: .seconds(seconds))
                    consoleTask.cancel()
                }
                defer { timer.cancel() }
                try await consoleTask.value
            } else {
                try await consoleTask.value
            }
        }
        await demo.stop()
        if headless {
            let counts = try await store.deliveryCounts()
            let succeeded = try await store.countDeliveries(status: .succeeded, endpointID: nil)
            let breakers = try await store.breakers().filter { $0.state != .closed }.count
            Output.immediate("Summary: \(demo.emitted.load(ordering: .relaxed)) events emitted; deliveries \(succeeded) succeeded, \(counts.pending) pending, \(counts.failed) failed, \(counts.held) held; \(breakers) breakers not closed.")
        }
        try? await store.close()
        Output.immediate("Demo database: \(store.location)")
    }
}
