import Foundation

/// A pane's sort: a column, by its title (the TENANT column comes and goes), and a direction.
public struct PaneSort: Sendable, Hashable {
    public var column: String
    public var descending: Bool

    public init(column: String, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }

    /// The pane's rows in this order; rows with equal keys keep the pane's own order, and cells
    /// without a value (`-`) go last whichever the direction.
    public func apply(to content: PaneContent) -> [PaneRow] {
        guard let index = content.columns.firstIndex(where: { $0.title == column }) else { return content.rows }
        let blank = content.rows.filter { Self.isBlank($0, index) }
        let sorted = content.rows.filter { !Self.isBlank($0, index) }.enumerated().sorted { a, b in
            switch Self.compare(a.element, b.element, column: index) {
            case .orderedSame: return a.offset < b.offset
            case .orderedAscending: return !descending
            case .orderedDescending: return descending
            }
        }.map(\.element)
        return sorted + blank
    }

    static func isBlank(_ row: PaneRow, _ column: Int) -> Bool {
        guard row.sortValue(column) == nil else { return false }
        let text = column < row.cells.count ? row.cells[column] : ""
        return text.isEmpty || text == "-"
    }

    /// By the cells' numbers where both have one, else by their text with numbers in it read as
    /// numbers (`ep_9` before `ep_10`).
    static func compare(_ a: PaneRow, _ b: PaneRow, column: Int) -> ComparisonResult {
        if let x = a.sortValue(column), let y = b.sortValue(column) {
            return x == y ? .orderedSame : (x < y ? .orderedAscending : .orderedDescending)
        }
        let textA = column < a.cells.count ? a.cells[column] : "", textB = column < b.cells.count ? b.cells[column] : ""
        return textA.localizedStandardCompare(textB)
    }

    /// How the pane's title says it: `TIME ↓`.
    public var label: String { column + (descending ? " ↓" : " ↑") }
}
