/// The panes, in their tab order: four in the grid, then the live attempts view, which takes the
/// whole body when focused.
public enum PaneID: Int, Sendable, Hashable, CaseIterable {
    case subscriptions, events, failed, breakers, attempts

    public var title: String {
        switch self {
        case .subscriptions: return "Subscriptions"
        case .events: return "Events"
        case .failed: return "Failed deliveries"
        case .breakers: return "Breakers"
        case .attempts: return "Attempts"
        }
    }
}

/// Everything a key can ask for.
public enum Command: Sendable, Hashable {
    case nextPane, previousPane, focus(PaneID)
    case down, up, top, bottom, pageDown, pageUp
    case detail, back
    case filter, chooseTenant, commandLine
    case mark, clearMarks, sort, reverseSort
    case copyID, openInPager, activityScale
    case redeliver, redeliverAllFailed, toggleSubscription, editEventTypes, resetBreaker, testSend
    case pause, nextTheme, help, quit
}

/// One row of the keymap: keys, what they do, where they work, and the help text.
public struct KeyBinding: Sendable {
    public var keys: [Key]
    public var command: Command
    /// Panes where it works; empty means everywhere.
    public var panes: Set<PaneID>
    /// Changes data: refused in read-only mode.
    public var mutates: Bool
    /// Shown in the footer of the panes where it works.
    public var inFooter: Bool
    public var help: String

    /// The keys as written in help and the footer, e.g. `j/↓`.
    public var keyLabel: String { keys.map(\.label).joined(separator: "/") }
}

/// The one table that drives both the keys' behaviour and the `?` help.
public enum Keymap {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.tab], command: .nextPane, panes: [], mutates: false, inFooter: true, help: "next pane"),
        KeyBinding(keys: [.backTab], command: .previousPane, panes: [], mutates: false, inFooter: false, help: "previous pane"),
        KeyBinding(keys: [.character("1")], command: .focus(.subscriptions), panes: [], mutates: false, inFooter: false, help: "Subscriptions pane"),
        KeyBinding(keys: [.character("2")], command: .focus(.events), panes: [], mutates: false, inFooter: false, help: "Events pane"),
        KeyBinding(keys: [.character("3")], command: .focus(.failed), panes: [], mutates: false, inFooter: false, help: "Failed deliveries pane"),
        KeyBinding(keys: [.character("4")], command: .focus(.breakers), panes: [], mutates: false, inFooter: false, help: "Breakers pane"),
        KeyBinding(keys: [.character("5")], command: .focus(.attempts), panes: [], mutates: false, inFooter: false, help: "live attempts view, newest first"),
        KeyBinding(keys: [.character("j"), .down], command: .down, panes: [], mutates: false, inFooter: false, help: "move down"),
        KeyBinding(keys: [.character("k"), .up], command: .up, panes: [], mutates: false, inFooter: false, help: "move up"),
        KeyBinding(keys: [.character("g"), .home], command: .top, panes: [], mutates: false, inFooter: false, help: "first row"),
        KeyBinding(keys: [.character("G"), .end], command: .bottom, panes: [], mutates: false, inFooter: false, help: "last row"),
        KeyBinding(keys: [.pageDown], command: .pageDown, panes: [], mutates: false, inFooter: false, help: "page down"),
        KeyBinding(keys: [.pageUp], command: .pageUp, panes: [], mutates: false, inFooter: false, help: "page up"),
        KeyBinding(keys: [.enter], command: .detail, panes: [], mutates: false, inFooter: true, help: "details of the selected row"),
        KeyBinding(keys: [.escape], command: .back, panes: [], mutates: false, inFooter: false, help: "back, close, clear the filter"),
        KeyBinding(keys: [.character("/")], command: .filter, panes: [], mutates: false, inFooter: true, help: "filter this pane (! inverts)"),
        KeyBinding(keys: [.character("@")], command: .chooseTenant, panes: [], mutates: false, inFooter: true, help: "show one tenant's endpoints, events, failures and breakers (empty: every tenant)"),
        KeyBinding(keys: [.character(":")], command: .commandLine, panes: [], mutates: false, inFooter: true,
                   help: "command: an evt_/dlv_/ep_ id, tenant [ID], since 15m|off, theme NAME (Tab completes)"),
        KeyBinding(keys: [.character("m")], command: .mark, panes: [.failed, .attempts], mutates: false, inFooter: true, help: "mark or unmark the row for a bulk redelivery"),
        KeyBinding(keys: [.character("M")], command: .clearMarks, panes: [.failed, .attempts], mutates: false, inFooter: false, help: "clear the pane's marks"),
        KeyBinding(keys: [.character("r")], command: .redeliver, panes: [.failed, .attempts], mutates: true, inFooter: true,
                   help: "redeliver the marked deliveries (after a confirmation), else the selected one"),
        KeyBinding(keys: [.character("R")], command: .redeliverAllFailed, panes: [.subscriptions, .failed, .breakers], mutates: true, inFooter: true, help: "redeliver every failed delivery of the endpoint"),
        KeyBinding(keys: [.character(" ")], command: .toggleSubscription, panes: [.subscriptions], mutates: true, inFooter: true, help: "enable or disable the subscription"),
        KeyBinding(keys: [.character("e")], command: .editEventTypes, panes: [.subscriptions], mutates: true, inFooter: true, help: "edit the endpoint's event types"),
        KeyBinding(keys: [.character("T")], command: .testSend, panes: [.subscriptions], mutates: true, inFooter: true, help: "send a signed test event to the endpoint now"),
        KeyBinding(keys: [.character("b")], command: .resetBreaker, panes: [.subscriptions, .breakers], mutates: true, inFooter: true, help: "reset the endpoint's breaker"),
        KeyBinding(keys: [.character("s")], command: .sort, panes: [], mutates: false, inFooter: true, help: "sort by the next column (shown in the pane's title)"),
        KeyBinding(keys: [.character("S")], command: .reverseSort, panes: [], mutates: false, inFooter: false, help: "reverse the sort"),
        KeyBinding(keys: [.character("y")], command: .copyID, panes: [], mutates: false, inFooter: true, help: "copy the selected id to the clipboard (OSC 52)"),
        KeyBinding(keys: [.character("v")], command: .openInPager, panes: [.events, .failed, .attempts], mutates: false, inFooter: false,
                   help: "open the event's payload or the delivery's last response in $PAGER"),
        KeyBinding(keys: [.character("w")], command: .activityScale, panes: [], mutates: false, inFooter: false, help: "header activity per second (2 min) or per minute (1 h)"),
        KeyBinding(keys: [.character("p")], command: .pause, panes: [], mutates: false, inFooter: true, help: "pause or resume refresh"),
        KeyBinding(keys: [.character("t")], command: .nextTheme, panes: [], mutates: false, inFooter: false, help: "next theme"),
        KeyBinding(keys: [.character("?")], command: .help, panes: [], mutates: false, inFooter: true, help: "help"),
        KeyBinding(keys: [.character("q")], command: .quit, panes: [], mutates: false, inFooter: true, help: "quit"),
    ]

    /// The binding for a key in a pane, if any.
    public static func binding(for key: Key, in pane: PaneID) -> KeyBinding? {
        bindings.first { $0.keys.contains(key) && ($0.panes.isEmpty || $0.panes.contains(pane)) }
    }

    /// The footer's `key action` pairs for a pane.
    public static func footer(for pane: PaneID) -> [(key: String, help: String)] {
        bindings.filter { $0.inFooter && ($0.panes.isEmpty || $0.panes.contains(pane)) }
            .map { ($0.keyLabel, shortHelp($0.command)) }
    }

    /// The help screen's lines, generated from the table.
    public static func helpLines() -> [String] {
        var lines = ["Keys (every pane unless a pane is named)", ""]
        let width = bindings.map { DisplayWidth.of($0.keyLabel) }.max() ?? 8
        for binding in bindings {
            var line = DisplayWidth.pad(binding.keyLabel, to: width) + "  " + binding.help
            if !binding.panes.isEmpty {
                line += " (" + PaneID.allCases.filter(binding.panes.contains).map(\.title).joined(separator: ", ") + ")"
            }
            lines.append(line)
        }
        lines += [
            "",
            "Commands after :  " + CommandPrompt.summary,
            "Mouse             a click selects a pane, tab or row; the wheel scrolls (off with --no-mouse)",
            "",
            "A confirmation is a one-line question: y confirms; n, Esc or any other key cancels.",
        ]
        return lines
    }

    static func shortHelp(_ command: Command) -> String {
        switch command {
        case .nextPane: return "pane"
        case .detail: return "detail"
        case .filter: return "filter"
        case .chooseTenant: return "tenant"
        case .commandLine: return "command"
        case .mark: return "mark"
        case .sort: return "sort"
        case .copyID: return "copy id"
        case .redeliver: return "redeliver"
        case .redeliverAllFailed: return "redeliver all failed"
        case .toggleSubscription: return "on/off"
        case .editEventTypes: return "events"
        case .resetBreaker: return "reset breaker"
        case .testSend: return "test"
        case .pause: return "pause"
        case .help: return "help"
        case .quit: return "quit"
        default: return ""
        }
    }
}
