import Foundation

/// One terminal cell: a character, how many columns it covers, and its style token.
public struct Cell: Sendable, Hashable {
    /// The character; a space for blank cells and for the second half of a wide character.
    public var character: Character
    /// 1 or 2 for a character's first cell; 0 for the second half of a wide one.
    public var width: UInt8
    public var style: StyleToken

    public static let blank = Cell(character: " ", width: 1, style: .text)
}

/// An off-screen grid of cells that panes draw into and a terminal copies to the screen.
public struct ScreenGrid: Sendable, Hashable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        cells[y * width + x]
    }

    /// Writes `text` from column `x` on row `y`, clipped to `limit` columns (and the grid), by
    /// display width. Returns the columns written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: StyleToken = .text, limit: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let end = min(width, x + (limit ?? width))
        var column = x
        for character in text {
            var shown = character
            if character == "\n" || character == "\t" || character == "\r" { shown = " " }
            var w = DisplayWidth.of(shown)
            if w == 0 {
                if shown.unicodeScalars.allSatisfy({ $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }) {
                    shown = "?"
                    w = 1
                } else {
                    continue
                }
            }
            if column + w > end { break }
            if column >= 0 {
                cells[y * width + column] = Cell(character: shown, width: UInt8(w), style: style)
                if w == 2 { cells[y * width + column + 1] = Cell(character: " ", width: 0, style: style) }
            }
            column += w
        }
        return max(0, column - x)
    }

    /// Paints a rectangle's cells with spaces in a style.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, style: StyleToken) {
        for row in max(0, y)..<min(height, y + h) {
            for column in max(0, x)..<min(width, x + w) {
                cells[row * width + column] = Cell(character: " ", width: 1, style: style)
            }
        }
    }

    /// Sets the style of existing cells in a row span, keeping their characters.
    public mutating func restyle(x: Int, y: Int, width w: Int, style: StyleToken) {
        guard y >= 0, y < height else { return }
        for column in max(0, x)..<min(width, x + w) {
            cells[y * width + column].style = style
        }
    }

    /// A box with a title in its top border.
    public mutating func box(x: Int, y: Int, width w: Int, height h: Int, title: String, focused: Bool) {
        guard w >= 2, h >= 2 else { return }
        let style: StyleToken = focused ? .focusBorder : .border
        let horizontal = String(repeating: "─", count: w - 2)
        put("┌" + horizontal + "┐", x: x, y: y, style: style)
        put("└" + horizontal + "┘", x: x, y: y + h - 1, style: style)
        for row in (y + 1)..<(y + h - 1) {
            put("│", x: x, y: row, style: style)
            put("│", x: x + w - 1, y: row, style: style)
        }
        if !title.isEmpty {
            put(" \(title) ", x: x + 2, y: y, style: focused ? .focusBorder : .title, limit: w - 4)
        }
    }

    /// The text of one row, as a terminal would show it.
    public func line(_ y: Int) -> String {
        var text = ""
        for x in 0..<width where self[x, y].width > 0 {
            text.append(self[x, y].character)
        }
        return text
    }

    /// Every row, joined by newlines, trailing spaces kept.
    public var text: String {
        (0..<height).map(line).joined(separator: "\n")
    }

    /// Whether any row contains `needle`.
    public func contains(_ needle: String) -> Bool {
        (0..<height).contains { line($0).contains(needle) }
    }

    /// The style of the first cell of the first occurrence of `needle`, for asserting on colours.
    public func style(of needle: String) -> StyleToken? {
        for y in 0..<height {
            let row = line(y)
            guard let range = row.range(of: needle) else { continue }
            let prefix = String(row[row.startIndex..<range.lowerBound])
            return self[DisplayWidth.of(prefix), y].style
        }
        return nil
    }
}
