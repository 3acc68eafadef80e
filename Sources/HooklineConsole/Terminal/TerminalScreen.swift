/// A key the user pressed.
public enum Key: Sendable, Hashable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    /// The terminal changed size.
    case resize

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
}
