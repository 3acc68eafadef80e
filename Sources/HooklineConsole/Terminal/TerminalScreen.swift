/// A mouse click or wheel turn at a cell.
public struct MouseEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case click, wheelUp, wheelDown }
    public var x: Int
    public var y: Int
    public var kind: Kind

    public init(x: Int, y: Int, kind: Kind) {
        self.x = x
        self.y = y
        self.kind = kind
    }
}

/// A key the user pressed.
public enum Key: Sendable, Hashable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    /// The terminal changed size.
    case resize
    case mouse(MouseEvent)

    /// How help and the footer write it.
    public var label: String {
        switch self {
        case .character(" "): return "Space"
        case .character(let c): return String(c)
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Bksp"
        case .resize: return "resize"
        case .mouse: return "mouse"
        }
    }
}

/// The seam between the console and a real terminal: tests render into grids without one.
public protocol TerminalScreen: AnyObject {
    /// Columns and rows now.
    var size: (width: Int, height: Int) { get }
    /// Copies the grid to the terminal in the theme's colours.
    func present(_ grid: ScreenGrid, theme: Theme)
    /// The next key, or nil when `timeoutMilliseconds` passed without one.
    func nextKey(timeoutMilliseconds: Int) -> Key?
    /// Restores the terminal.
    func close()
    /// Asks the terminal to put `text` on the clipboard (OSC 52); false when it cannot.
    func copyToClipboard(_ text: String) -> Bool
    /// Gives the terminal to another program (a pager) while `body` runs, then takes it back.
    func suspended(_ body: () -> Void)
}
