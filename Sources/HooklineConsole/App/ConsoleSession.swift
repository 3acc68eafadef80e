import Foundation
import HooklineCore
import Synchronization

/// Runs the console: refreshes the snapshot in the background, draws, reads keys, and carries out
/// actions through the core `Operations` (as actor `console`).
public final class ConsoleSession {
    public struct Options: Sendable {
        public var refreshInterval: TimeInterval
        public var readOnly: Bool
        public var themeName: String
        /// `NO_COLOR` is set: draw with attributes only.
        public var noColor: Bool

        public init(refreshInterval: TimeInterval = 1, readOnly: Bool = false, themeName: String = "dark", noColor: Bool = false) {
            self.refreshInterval = refreshInterval
            self.readOnly = readOnly
            self.themeName = themeName
            self.noColor = noColor
        }
    }

    /// What background work hands back to the loop.
    enum Message: Sendable {
        case snapshot(DashboardSnapshot, token: Int64)
        case unchanged
        case refreshFailed(String)
        case flash(String, StyleToken)
        case view(TextView)
        case confirm(Confirmation)
        case scope(String?)
        /// Text to show in `$PAGER`.
        case page(title: String, text: String)
        case refreshNow
        case quit
    }

    final class Mailbox: Sendable {
        private let messages = Mutex<[Message]>([])
        func post(_ message: Message) { messages.withLock { $0.append(message) } }
        func take() -> [Message] { messages.withLock { let all = $0; $0.removeAll(); return all } }
    }

    let operations: Operations
    /// Sends test events (`T`); nil refuses them.
    let transport: (any HTTPTransport)?
    let options: Options
    let library: ThemeLibrary
    public private(set) var state: ConsoleState
    var theme: Theme
    let mailbox = Mailbox()

    /// Loads the theme; one that is missing or broken is reported on the flash line and the
    /// built-in default is used instead, so a theme never stops the console from starting.
    /// - Parameter transport: what `T` sends test events with (the CLI gives one that honours
    ///   `--allow-private-networks`); without one, `T` says it cannot.
    public init(operations: Operations, options: Options, transport: (any HTTPTransport)? = nil, library: ThemeLibrary = .standard()) {
        self.operations = operations
        self.transport = transport
        self.options = options
        self.library = library
        state = ConsoleState(readOnly: options.readOnly, themeName: options.noColor ? "monochrome" : options.themeName)
        state.themeNames = library.names()
        if options.noColor {
            theme = .monochrome
            return
        }
        let (loaded, problem) = library.loadOrDefault(options.themeName)
        theme = loaded
        if let problem {
            state.themeName = loaded.name
            state.say(problem, .error)
        }
    }

    /// A function that asks the loop to end, safe to call from a signal handler's task; the caller
    /// restores the terminal once `run` returns.
    public var quitRequester: @Sendable () -> Void {
        let mailbox = self.mailbox
        return { mailbox.post(.quit) }
    }

    /// Runs until `q`.
    public func run(on terminal: TerminalScreen) async {
        var refreshing = false
        var lastRefresh = Date.distantPast
        var lastFullRefresh = Date.distantPast
        var lastToken: Int64?
        var lastRequest: FrameRequest?
        var dirty = true
        var refreshRequested = true
        while true {
            for message in mailbox.take() {
                dirty = true
                switch message {
                case .snapshot(let snapshot, let token):
                    refreshing = false
                    lastToken = token
                    lastFullRefresh = Date()
                    state.refreshError = nil
                    state.apply(snapshot)
                case .unchanged:
                    refreshing = false
                    state.refreshError = nil
                    state.now = Date()
                case .refreshFailed(let text):
                    // Shown in the header; the next refresh tries again.
                    refreshing = false
                    state.refreshError = text
                case .flash(let text, let style):
                    state.say(text, style)
                case .view(let view):
                    state.mode = .view(view)
                case .confirm(let confirmation):
                    state.mode = .confirm(confirmation)
                case .scope(let tenant):
                    state.scope(to: tenant)
                    refreshRequested = true
                case .page(let title, let text):
                    page(title: title, text: text, on: terminal)
                case .refreshNow:
                    refreshRequested = true
                case .quit:
                    return
                }
            }
            let now = Date()
            if !refreshing && (refreshRequested || (!state.paused && now.timeIntervalSince(lastRefresh) >= options.refreshInterval)) {
                refreshing = true
                refreshRequested = false
                lastRefresh = now
                let request = frameRequest(height: terminal.size.height)
                let force = lastToken == nil || now.timeIntervalSince(lastFullRefresh) >= 10 || request != lastRequest
                lastRequest = request
                startRefresh(request, previousToken: force ? nil : lastToken)
            }
            if dirty {
                let size = terminal.size
                let grid = ConsoleRenderer.render(&state, width: size.width, height: size.height)
                terminal.present(grid, theme: theme)
                dirty = false
            }
            guard let key = terminal.nextKey(timeoutMilliseconds: 50) else { continue }
            dirty = true
            for effect in state.handle(key) {
                switch effect {
                case .quit:
                    return
                case .refreshNow:
                    refreshRequested = true
                case .nextTheme:
                    nextTheme()
                case .setTheme(let name):
                    setTheme(name)
                case .copy(let text):
                    if terminal.copyToClipboard(text) {
                        state.say("Copied \(text) to the clipboard (OSC 52; the terminal must allow it).", .ok)
                    } else {
                        state.say("Could not write to the terminal to copy \(text).", .error)
                    }
                case .run(let task):
                    start(task)
                }
            }
        }
    }

    /// What the next frame reads: rows for the screen's height, the endpoint window, the attempts
    /// view only while it shows, and the `:since` window.
    struct FrameRequest: Hashable {
        var limit: Int
        var attemptsLimit: Int
        var window: EndpointWindow
        var recentWindow: TimeInterval?
    }

    func frameRequest(height: Int) -> FrameRequest {
        let limit = max(20, height)
        return FrameRequest(limit: limit, attemptsLimit: state.focus == .attempts ? limit : 0, window: state.endpointWindow(), recentWindow: state.recentWindow)
    }

    func startRefresh(_ request: FrameRequest, previousToken: Int64?) {
        let operations = self.operations
        let mailbox = self.mailbox
        Task {
            do {
                let token = try await operations.store.changeToken()
                if let previousToken, previousToken == token {
                    mailbox.post(.unchanged)
                    return
                }
                let since = request.recentWindow.map { operations.clock.now().addingTimeInterval(-$0) }
                let snapshot = try await operations.dashboard(
                    eventsLimit: request.limit, failedLimit: request.limit, attemptsLimit: request.attemptsLimit, since: since, endpoints: request.window)
                mailbox.post(.snapshot(snapshot, token: token))
            } catch {
                mailbox.post(.refreshFailed(String(describing: error)))
            }
        }
    }

    /// `t`: the theme after the current one, in the library's order.
    func nextTheme() {
        let names = library.names()
        guard !names.isEmpty else { return }
        let index = names.firstIndex(of: state.themeName).map { ($0 + 1) % names.count } ?? 0
        setTheme(names[index])
    }

    /// `:theme NAME` (and `t`): loads the theme, or says why not.
    func setTheme(_ name: String) {
        guard !options.noColor else {
            state.say("NO_COLOR is set: the monochrome theme stays.", .muted)
            return
        }
        do {
            theme = try library.load(name)
            state.themeName = name
            state.say("Theme: \(name)", .muted)
        } catch {
            state.say(error.description, .error)
        }
    }

    /// Shows text in `$PAGER` (else `less`), with curses suspended until the pager exits.
    func page(title: String, text: String, on terminal: TerminalScreen) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hookline-\(UUID().uuidString).txt")
        do {
            try Data(text.utf8).write(to: file, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        } catch {
            state.say("Could not write \(title) to \(file.path): \(error.localizedDescription)", .error)
            return
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let pager = ProcessInfo.processInfo.environment["PAGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "less"
        var status: Int32 = 0
        terminal.suspended {
            // system(), not Process: Foundation starts children in a process group of their own,
            // in the terminal's background, where a pager cannot read keys (less exits at once).
            // The pager command may carry its own options ($PAGER="less -R"); the path is ours, quoted.
            let waited = system(pager + " '" + file.path.replacingOccurrences(of: "'", with: "'\\''") + "'")
            status = waited == -1 ? -1 : (waited >> 8) & 0xFF
        }
        state.say(status == 0 ? "Closed \(title)." : "$PAGER (\(pager)) failed with status \(status); set PAGER to a pager that exists.",
                  status == 0 ? .muted : .error)
    }

    /// Carries out an action in the background; its result arrives as a message.
    func start(_ task: ConsoleTask) {
        let operations = self.operations
        let transport = self.transport
        let mailbox = self.mailbox
        Task {
            let messages = await ConsoleSession.execute(task, operations: operations, transport: transport)
            for message in messages {
                mailbox.post(message)
            }
        }
    }

    static func execute(_ task: ConsoleTask, operations: Operations, transport: (any HTTPTransport)? = nil) async -> [Message] {
        do {
            switch task {
            case .redeliver(let id):
                let result = try await operations.redeliver([id])
                if let skip = result.skipped.first { return [.flash("Not redelivered: \(skip.reason).", .warn)] }
                return [.flash("Redelivery of \(id) queued; the dispatcher sends it now.", .ok), .refreshNow]
            case .redeliverMarked(let ids):
                let result = try await operations.redeliver(ids)
                var text = "Queued \(result.requeued.count) of \(ids.count) marked deliveries for redelivery."
                if !result.skipped.isEmpty {
                    text += " Not redelivered: " + result.skipped.prefix(3).map { "\($0.id) (\($0.reason))" }.joined(separator: ", ")
                        + (result.skipped.count > 3 ? " and \(result.skipped.count - 3) more." : ".")
                }
                return [.flash(text, result.skipped.isEmpty ? .ok : .warn), .refreshNow]
            case .previewRecover(let endpointID):
                let ids = try await operations.failedDeliveries(endpointID: endpointID, since: nil)
                guard !ids.isEmpty else { return [.flash("No failed deliveries for \(endpointID).", .muted)] }
                return [.confirm(Confirmation(
                    question: "Redeliver \(ids.count) failed \(ids.count == 1 ? "delivery" : "deliveries") of \(endpointID)? [y/N]",
                    action: .recover(endpointID: endpointID, ids: ids)))]
            case .recover(let endpointID, let ids):
                let result = try await operations.recoverFailed(endpointID: endpointID, ids: ids)
                var text = "Queued \(result.requeued.count) of \(ids.count) failed deliveries of \(endpointID) for redelivery."
                if !result.skipped.isEmpty { text += " \(result.skipped.count) changed meanwhile and were left alone." }
                return [.flash(text, .ok), .refreshNow]
            case .previewEnable(let endpointID):
                let held = try await operations.store.countDeliveries(status: .held, endpointID: endpointID)
                if held == 0 {
                    return [.confirm(Confirmation(question: "Enable \(endpointID)? [y/N]", action: .enable(endpointID: endpointID, releaseHeld: true)))]
                }
                return [.confirm(Confirmation(
                    question: "Enable \(endpointID) and release its \(held) held deliveries? y: release, k: keep them held, other: cancel",
                    action: .enable(endpointID: endpointID, releaseHeld: true),
                    alternative: ("k", .enable(endpointID: endpointID, releaseHeld: false))))]
            case .enable(let endpointID, let release):
                let change = try await operations.enableEndpoint(id: endpointID, releaseHeld: release)
                let text = release ? "Enabled \(endpointID); released \(change.movedDeliveries) held deliveries." : "Enabled \(endpointID); held deliveries stay held."
                return [.flash(text, .ok), .refreshNow]
            case .disable(let endpointID):
                let change = try await operations.disableEndpoint(id: endpointID, reason: "disabled from the console")
                return [.flash("Disabled \(endpointID); held \(change.movedDeliveries) pending deliveries.", .warn), .refreshNow]
            case .setEventTypes(let endpointID, let types):
                let endpoint = try await operations.setEventTypes(id: endpointID, to: types)
                return [.flash("\(endpointID) now receives \(endpoint.eventTypes.storedValue).", .ok), .refreshNow]
            case .resetBreaker(let endpointID):
                _ = try await operations.resetBreaker(endpointID: endpointID)
                return [.flash("Breaker of \(endpointID) reset to closed.", .ok), .refreshNow]
            case .testSend(let endpointID):
                guard let transport else { return [.flash("This console cannot send test events.", .warn)] }
                let send = try await operations.sendTest(endpointID: endpointID, transport: transport)
                return [.flash(Self.describe(send), send.succeeded ? .ok : .error), .refreshNow]
            case .openEvent(let id):
                return [.view(DetailViews.event(try await operations.eventDetail(id: id)))]
            case .openDelivery(let id):
                return [.view(DetailViews.delivery(try await operations.deliveryDetail(id: id)))]
            case .openEndpoint(let id):
                return [.view(DetailViews.endpoint(try await operations.endpointDetail(id: id)))]
            case .pageEvent(let id):
                let event = try await operations.eventDetail(id: id).summary.event
                return [.page(title: "the payload of \(id)", text: DetailViews.indented(event.payload) + "\n")]
            case .pageDelivery(let id):
                let detail = try await operations.deliveryDetail(id: id)
                guard let last = detail.attempts.last else { return [.flash("\(id) has no attempt yet, so no response to show.", .muted)] }
                let status = last.statusCode.map { "HTTP \($0)" } ?? (last.errorMessage ?? last.errorClass ?? "no response")
                let header = "Delivery \(id), attempt #\(last.number) at \(Timestamp.iso8601(last.startedAt)): \(status), \(last.durationMs) ms\n\n"
                return [.page(title: "the last response of \(id)", text: header + (last.responseExcerpt ?? "(no response body)") + "\n")]
            case .scopeTenant(let id):
                if let id { _ = try await operations.tenant(id: id) }
                return [.scope(id)]
            }
        } catch {
            return [.flash(error.description, .error)]
        }
    }
}

extension ConsoleSession {
    /// The flash line after a test send: the answer, or the failure and what to check.
    static func describe(_ send: TestSend) -> String {
        if send.succeeded {
            return "Test \(send.eventType) to \(send.endpointID): HTTP \(send.statusCode ?? 0) in \(send.durationMs) ms."
        }
        let problem = send.errorMessage ?? send.errorClass ?? "failed"
        return "Test to \(send.endpointID) failed: \(problem). \(send.advice ?? "")"
    }
}
