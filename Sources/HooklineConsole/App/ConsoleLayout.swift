/// A rectangle of the screen.
public struct ScreenRect: Sendable, Hashable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < x + width && py >= y && py < y + height
    }
}

/// Where the last render put each pane, its first visible row and each tab: what a click hits.
public struct ConsoleLayout: Sendable, Hashable {
    public struct PaneFrame: Sendable, Hashable {
        public var pane: PaneID
        /// The pane's box, border included.
        public var rect: ScreenRect
        /// The screen row of the first data row.
        public var firstRowY: Int
        /// The index of the row drawn there.
        public var firstRowIndex: Int
        public var visibleRows: Int
    }

    public var panes: [PaneFrame] = []
    public var tabs: [(pane: PaneID, rect: ScreenRect)] = []

    public init() {}

    public static func == (a: ConsoleLayout, b: ConsoleLayout) -> Bool {
        a.panes == b.panes && a.tabs.map(\.pane) == b.tabs.map(\.pane) && a.tabs.map(\.rect) == b.tabs.map(\.rect)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(panes) }
}
