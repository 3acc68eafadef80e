/// A terminal colour: the terminal's default, or one of the 256 indexed colours.
public struct TerminalColor: Sendable, Hashable {
    /// -1 for the terminal's default, else 0…255 (0–7 the basic colours, 8–15 their bright forms).
    public var index: Int16

    public init(index: Int16) { self.index = index }

    public static let `default` = TerminalColor(index: -1)
    public static let black = TerminalColor(index: 0)
    public static let red = TerminalColor(index: 1)
    public static let green = TerminalColor(index: 2)
    public static let yellow = TerminalColor(index: 3)
    public static let blue = TerminalColor(index: 4)
    public static let magenta = TerminalColor(index: 5)
    public static let cyan = TerminalColor(index: 6)
    public static let white = TerminalColor(index: 7)
}

/// How a cell looks: colours and attributes.
public struct Style: Sendable, Hashable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var bold: Bool
    public var dim: Bool
    public var underline: Bool
    public var reverse: Bool

    public init(foreground: TerminalColor = .default, background: TerminalColor = .default, bold: Bool = false, dim: Bool = false, underline: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.dim = dim
        self.underline = underline
        self.reverse = reverse
    }

    public static let plain = Style()
}

/// The semantic roles a theme gives a style to; panes draw with tokens, never with colours.
public enum StyleToken: String, Sendable, Hashable, CaseIterable {
    case text
    case muted
    case border
    case focusBorder = "focus_border"
    case title
    case selection
    case header
    case ok
    case warn
    case error
    case flash
    case tabActive = "tab_active"
    case tabInactive = "tab_inactive"
    case breakerClosed = "breaker_closed"
    case breakerHalfOpen = "breaker_half_open"
    case breakerOpen = "breaker_open"
    case sparkline
    case key
}
