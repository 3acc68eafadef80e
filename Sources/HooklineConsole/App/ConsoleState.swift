import Foundation
import HooklineCore

/// A question waiting for `y`.
public struct Confirmation: Sendable, Hashable {
    public var question: String
    public var action: ConsoleTask
    /// An extra key with its own action (enable but keep held deliveries held).
    public var alternative: (key: Character, action: ConsoleTask)?

    public static func == (a: Confirmation, b: Confirmation) -> Bool {
        a.question == b.question && a.action == b.action && a.alternative?.key == b.alternative?.key
            && a.alternative?.action == b.alternative?.action
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(question)
        hasher.combine(action)
    }
}

/// Work the console asks the core to do; each ends in a flash message or a new view.
public enum ConsoleTask: Sendable, Hashable {
    case redeliver(deliveryID: String)
    /// The marked deliveries of a pane, confirmed.
    case redeliverMarked(ids: [String])
    case previewRecover(endpointID: String)
    case recover(endpointID: String, ids: [String])
    case previewEnable(endpointID: String)
    case enable(endpointID: String, releaseHeld: Bool)
    case disable(endpointID: String)
    case setEventTypes(endpointID: String, types: EventTypeSelection)
    case resetBreaker(endpointID: String)
    case testSend(endpointID: String)
    case openEvent(id: String)
    case openDelivery(id: String)
    case openEndpoint(id: String)
    /// The event's payload, in `$PAGER`.
    case pageEvent(id: String)
    /// The delivery's last response, in `$PAGER`.
    case pageDelivery(id: String)
    /// Scope every pane to a tenant (nil: every tenant), once the store knows it.
    case scopeTenant(String?)
}

/// What the state asks the runner to do after a key.
public enum ConsoleEffect: Sendable, Hashable {
    case quit
    case refreshNow
    case run(ConsoleTask)
    case nextTheme
    case setTheme(String)
    /// Put the text on the clipboard (OSC 52).
    case copy(String)
}

/// A checklist of event types being edited for an endpoint.
public struct EventTypeEditor: Sendable, Hashable {
    public var endpointID: String
    /// "*" first, then the catalog's types.
    public var items: [String]
    public var checked: Set<String>
    public var cursor = 0

    public init(endpoint: Endpoint) {
        endpointID = endpoint.id
        items = ["*"] + EventCatalog.all.map(\.name)
        checked = Set(endpoint.eventTypes.list)
    }

    /// The selection the checklist describes, or nil when nothing is checked.
    public var selection: EventTypeSelection? {
        if checked.contains("*") { return .all }
        let types = items.filter { $0 != "*" && checked.contains($0) }
        return types.isEmpty ? nil : .only(types)
    }
}

/// A full-screen text view: a detail or the help.
public struct TextView: Sendable, Hashable {
    public var title: String
    public var lines: [(text: String, style: StyleToken)]
    public var scroll = 0

    public init(title: String, lines: [(String, StyleToken)]) {
        self.title = title
        self.lines = lines.map { (text: $0.0, style: $0.1) }
    }

    public static func == (a: TextView, b: TextView) -> Bool {
        a.title == b.title && a.scroll == b.scroll && a.lines.map(\.text) == b.lines.map(\.text)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(title)
        hasher.combine(scroll)
    }
}

/// The console's whole state; keys change it through ``handle(_:)``, which is pure.
public struct ConsoleState: Sendable {
    public enum Mode: Sendable, Hashable {
        case normal
        case filtering(String)
        case choosingTenant(String)
        case confirm(Confirmation)
        case view(TextView)
        case editTypes(EventTypeEditor)
        /// The `:` command line.
        case command(CommandPrompt)
    }

    public struct Flash: Sendable, Hashable {
        public var text: String
        public var style: StyleToken
        public var at: Date
    }

    public var snapshot: DashboardSnapshot?
    public var focus: PaneID = .subscriptions
    public var selection: [PaneID: String] = [:]
    public var cursor: [PaneID: Int] = [:]
    public var filters: [PaneID: String] = [:]
    /// The tenant every pane shows, or nil for every tenant.
    public var tenantScope: String?
    /// Events, Failed and Attempts show only this last stretch of time (`:since`), when set.
    public var recentWindow: TimeInterval?
    /// How each pane is sorted; a pane without one keeps its own order.
    public var sorts: [PaneID: PaneSort] = [:]
    /// Marked rows per pane by row id, kept as marked (rows leave a live pane; their marks stay).
    public var marks: [PaneID: [String: PaneRow]] = [:]
    /// The header's sparklines per second over two minutes (else per minute over the hour).
    public var activityPerSecond = true
    /// The themes `:theme` completes.
    public var themeNames: [String] = []
    /// Where each pane and tab was drawn at the last render, for the mouse.
    public var layout = ConsoleLayout()
    public var mode: Mode = .normal
    public var flash: Flash?
    public var paused = false
    /// Why the last refresh failed, until one succeeds.
    public var refreshError: String?
    public var readOnly: Bool
    public var themeName: String
    /// Rows visible in each pane at the last render, for paging.
    public var pageSize = 10
    public var now = Date()

    public init(readOnly: Bool = false, themeName: String = "dark") {
        self.readOnly = readOnly
        self.themeName = themeName
    }

    // MARK: Rows

    /// The rows of a pane after its filter, in its sort order.
    public func rows(_ pane: PaneID) -> [PaneRow] {
        let content = Panes.content(pane, snapshot: snapshot, now: now)
        let sorted = sorts[pane].map { $0.apply(to: content) } ?? content.rows
        guard var filter = filters[pane], !filter.isEmpty else { return sorted }
        let invert = filter.hasPrefix("!")
        if invert { filter.removeFirst() }
        guard !filter.isEmpty else { return sorted }
        return sorted.filter { $0.searchText.localizedCaseInsensitiveContains(filter) != invert }
    }

    /// The endpoints the next frame should read: those that need an operator, then enough of the
    /// others to fill the screen past the selection (the window grows as the operator scrolls),
    /// filtered by the endpoint panes' filter. A frame's cost follows what is looked at, not the
    /// number of endpoints.
    public func endpointWindow() -> EndpointWindow {
        let reached = [PaneID.subscriptions, .breakers].map { selectedIndex($0) ?? 0 }.max() ?? 0
        let limit = ((reached + 3 * max(10, pageSize)) / 100 + 1) * 100
        let pane = focus == .breakers ? PaneID.breakers : .subscriptions
        let filter = filters[pane].flatMap { $0.hasPrefix("!") ? nil : $0 }
        return EndpointWindow(limit: max(200, limit), filter: filter, tenant: tenantScope)
    }

    /// The index of the selected row in a pane, kept on the same item across refreshes.
    public func selectedIndex(_ pane: PaneID) -> Int? {
        let rows = self.rows(pane)
        guard !rows.isEmpty else { return nil }
        if let id = selection[pane], let index = rows.firstIndex(where: { $0.id == id }) { return index }
        return min(cursor[pane] ?? 0, rows.count - 1)
    }

    public func selectedRow(_ pane: PaneID) -> PaneRow? {
        selectedIndex(pane).map { rows(pane)[$0] }
    }

    mutating func select(_ pane: PaneID, index: Int) {
        let rows = self.rows(pane)
        guard !rows.isEmpty else { return }
        let clamped = max(0, min(rows.count - 1, index))
        cursor[pane] = clamped
        selection[pane] = rows[clamped].id
    }

    mutating func say(_ text: String, _ style: StyleToken = .flash) {
        flash = Flash(text: text, style: style, at: now)
    }

    /// A new snapshot from the store; selections stay on their items.
    public mutating func apply(_ snapshot: DashboardSnapshot) {
        self.snapshot = snapshot
        now = snapshot.takenAt
        for pane in PaneID.allCases {
            if let index = selectedIndex(pane) { cursor[pane] = index }
        }
    }

    // MARK: Keys

    /// Applies a key; returns what the runner must do.
    public mutating func handle(_ key: Key) -> [ConsoleEffect] {
        switch mode {
        case .filtering(let text): return handleFilter(key, text)
        case .choosingTenant(let text): return handleTenantPrompt(key, text)
        case .confirm(let confirmation): return handleConfirm(key, confirmation)
        case .view(let view): return handleView(key, view)
        case .editTypes(let editor): return handleEditor(key, editor)
        case .command(let prompt): return handleCommandLine(key, prompt)
        case .normal: break
        }
        if key == .resize { return [] }
        if case .mouse(let event) = key { return handleMouse(event) }
        guard let binding = Keymap.binding(for: key, in: focus) else {
            if Keymap.bindings.contains(where: { $0.keys.contains(key) }) {
                say("\(key.label) does nothing in \(focus.title); press ? for the keys of each pane.", .muted)
            }
            return []
        }
        if binding.mutates && readOnly {
            say("Read-only console: \(key.label) (\(Keymap.shortHelp(binding.command))) is refused; restart without --read-only to act.", .warn)
            return []
        }
        return perform(binding.command)
    }

    mutating func perform(_ command: Command) -> [ConsoleEffect] {
        let rowCount = rows(focus).count
        let index = selectedIndex(focus) ?? 0
        switch command {
        case .nextPane: return focus(PaneID(rawValue: (focus.rawValue + 1) % PaneID.allCases.count)!)
        case .previousPane: return focus(PaneID(rawValue: (focus.rawValue + PaneID.allCases.count - 1) % PaneID.allCases.count)!)
        case .focus(let pane): return focus(pane)
        case .down: select(focus, index: index + 1)
        case .up: select(focus, index: index - 1)
        case .top: select(focus, index: 0)
        case .bottom: select(focus, index: rowCount - 1)
        case .pageDown: select(focus, index: index + max(1, pageSize))
        case .pageUp: select(focus, index: index - max(1, pageSize))
        case .filter: mode = .filtering(filters[focus] ?? "")
        case .chooseTenant: mode = .choosingTenant(tenantScope ?? "")
        case .commandLine: mode = .command(CommandPrompt())
        case .mark: toggleMark()
        case .clearMarks:
            let count = marks[focus]?.count ?? 0
            marks[focus] = nil
            say(count == 0 ? "Nothing is marked in \(focus.title)." : "Cleared \(count) marks.", .muted)
        case .sort: cycleSort()
        case .reverseSort: reverseSort()
        case .copyID:
            guard let id = selectedID() else { return nothingSelected() }
            return [.copy(id)]
        case .openInPager:
            guard let row = selectedRow(focus) else { return nothingSelected() }
            if focus == .events, let id = row.eventID { return [.run(.pageEvent(id: id))] }
            if let id = row.deliveryID { return [.run(.pageDelivery(id: id))] }
        case .activityScale:
            activityPerSecond.toggle()
            say(activityPerSecond ? "Activity per second, last two minutes." : "Activity per minute, last hour.", .muted)
        case .back:
            if filters[focus] != nil {
                filters[focus] = nil
                say("Filter cleared.", .muted)
            }
        case .pause:
            paused.toggle()
            say(paused ? "Refresh paused; p resumes." : "Refresh resumed.", .muted)
            return paused ? [] : [.refreshNow]
        case .nextTheme: return [.nextTheme]
        case .help:
            mode = .view(TextView(title: "Help", lines: Keymap.helpLines().map { ($0, .text) }))
        case .quit: return [.quit]
        case .detail:
            guard let row = selectedRow(focus) else { return [] }
            switch focus {
            case .events: return row.eventID.map { [.run(.openEvent(id: $0))] } ?? []
            case .failed, .attempts: return row.deliveryID.map { [.run(.openDelivery(id: $0))] } ?? []
            case .subscriptions, .breakers: return row.endpointID.map { [.run(.openEndpoint(id: $0))] } ?? []
            }
        case .redeliver:
            if let marked = marks[focus], !marked.isEmpty { return confirmMarkedRedelivery(marked) }
            guard let row = selectedRow(focus) else { return nothingSelected() }
            if let deliveryID = row.deliveryID { return [.run(.redeliver(deliveryID: deliveryID))] }
        case .redeliverAllFailed:
            guard let endpointID = selectedRow(focus)?.endpointID else { return nothingSelected() }
            return [.run(.previewRecover(endpointID: endpointID))]
        case .toggleSubscription:
            guard let row = selectedRow(focus), let endpointID = row.endpointID,
                  let overview = snapshot?.endpoints.first(where: { $0.endpoint.id == endpointID })
            else { return nothingSelected() }
            if overview.endpoint.enabled {
                mode = .confirm(Confirmation(
                    question: "Disable \(Panes.name(of: overview.endpoint))? Its pending deliveries will be held. [y/N]",
                    action: .disable(endpointID: endpointID)))
            } else {
                return [.run(.previewEnable(endpointID: endpointID))]
            }
        case .editEventTypes:
            guard let endpointID = selectedRow(focus)?.endpointID,
                  let endpoint = snapshot?.endpoints.first(where: { $0.endpoint.id == endpointID })?.endpoint
            else { return nothingSelected() }
            mode = .editTypes(EventTypeEditor(endpoint: endpoint))
        case .resetBreaker:
            guard let endpointID = selectedRow(focus)?.endpointID else { return nothingSelected() }
            return [.run(.resetBreaker(endpointID: endpointID))]
        case .testSend:
            guard let endpointID = selectedRow(focus)?.endpointID else { return nothingSelected() }
            say("Sending a test case.created to \(endpointID)…", .muted)
            return [.run(.testSend(endpointID: endpointID))]
        }
        return []
    }

    /// Focuses a pane; the attempts view is read only while it shows, so it asks for a frame now.
    mutating func focus(_ pane: PaneID) -> [ConsoleEffect] {
        let wasAttempts = focus == .attempts
        focus = pane
        return (pane == .attempts) != wasAttempts ? [.refreshNow] : []
    }

    /// The id `y` copies: the delivery in Failed and Attempts, the event in Events, else the endpoint.
    func selectedID() -> String? {
        guard let row = selectedRow(focus) else { return nil }
        switch focus {
        case .events: return row.eventID
        case .failed, .attempts: return row.deliveryID
        case .subscriptions, .breakers: return row.endpointID
        }
    }

    mutating func nothingSelected() -> [ConsoleEffect] {
        say("Nothing is selected in \(focus.title).", .muted)
        return []
    }

    mutating func handleFilter(_ key: Key, _ text: String) -> [ConsoleEffect] {
        switch key {
        case .enter:
            filters[focus] = text.isEmpty ? nil : text
            mode = .normal
            if !text.isEmpty { say("Filter \(focus.title): \(text)  (Esc clears)", .muted) }
        case .escape:
            mode = .normal
        case .backspace:
            mode = .filtering(String(text.dropLast()))
        case .character(let c):
            mode = .filtering(text + String(c))
        default:
            break
        }
        return []
    }

    mutating func handleTenantPrompt(_ key: Key, _ text: String) -> [ConsoleEffect] {
        switch key {
        case .enter:
            mode = .normal
            let id = text.trimmingCharacters(in: .whitespaces)
            if id.isEmpty && tenantScope == nil { return [] }
            return [.run(.scopeTenant(id.isEmpty ? nil : id))]
        case .escape:
            mode = .normal
        case .backspace:
            mode = .choosingTenant(String(text.dropLast()))
        case .character(let c):
            mode = .choosingTenant(text + String(c))
        default:
            break
        }
        return []
    }

    /// Scopes every pane to a tenant the store knows (nil: every tenant); the selection starts over.
    public mutating func scope(to tenant: String?) {
        tenantScope = tenant
        selection = [:]
        cursor = [:]
        say(tenant.map { "Showing tenant \($0) only; :tenant alone shows every tenant." } ?? "Showing every tenant.", .muted)
    }

    mutating func handleConfirm(_ key: Key, _ confirmation: Confirmation) -> [ConsoleEffect] {
        if case .mouse = key { return [] }
        mode = .normal
        if key == .character("y") || key == .character("Y") {
            // Marked rows are done with once their redelivery is asked for.
            if case .redeliverMarked = confirmation.action { marks[focus] = nil }
            return [.run(confirmation.action)]
        }
        if let alternative = confirmation.alternative, key == .character(alternative.key) {
            return [.run(alternative.action)]
        }
        say("Cancelled.", .muted)
        return []
    }

    mutating func handleView(_ key: Key, _ view: TextView) -> [ConsoleEffect] {
        var view = view
        let last = max(0, view.lines.count - pageSize)
        switch key {
        case .escape, .character("q"), .enter: mode = .normal; return []
        case .character("j"), .down: view.scroll = min(last, view.scroll + 1)
        case .character("k"), .up: view.scroll = max(0, view.scroll - 1)
        case .pageDown, .character(" "): view.scroll = min(last, view.scroll + pageSize)
        case .pageUp: view.scroll = max(0, view.scroll - pageSize)
        case .mouse(let event) where event.kind == .wheelDown: view.scroll = min(last, view.scroll + 3)
        case .mouse(let event) where event.kind == .wheelUp: view.scroll = max(0, view.scroll - 3)
        case .mouse: break
        case .character("g"), .home: view.scroll = 0
        case .character("G"), .end: view.scroll = last
        default: break
        }
        mode = .view(view)
        return []
    }

    mutating func handleEditor(_ key: Key, _ editor: EventTypeEditor) -> [ConsoleEffect] {
        var editor = editor
        switch key {
        case .escape, .character("q"):
            mode = .normal
            say("Event types unchanged.", .muted)
            return []
        case .character("j"), .down: editor.cursor = min(editor.items.count - 1, editor.cursor + 1)
        case .character("k"), .up: editor.cursor = max(0, editor.cursor - 1)
        case .character(" "), .character("x"):
            let item = editor.items[editor.cursor]
            if editor.checked.contains(item) { editor.checked.remove(item) } else { editor.checked.insert(item) }
        case .enter:
            guard let selection = editor.selection else {
                say("Check at least one event type, or disable the endpoint with Space instead.", .warn)
                mode = .editTypes(editor)
                return []
            }
            mode = .normal
            return [.run(.setEventTypes(endpointID: editor.endpointID, types: selection))]
        default: break
        }
        mode = .editTypes(editor)
        return []
    }
}
