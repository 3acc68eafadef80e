import Foundation

extension ConsoleState {
    /// `m`: marks or unmarks the selected row and moves down, so `m m m` marks three in a row.
    mutating func toggleMark() {
        guard let row = selectedRow(focus), let index = selectedIndex(focus) else {
            _ = nothingSelected()
            return
        }
        var marked = marks[focus] ?? [:]
        if marked.removeValue(forKey: row.id) == nil { marked[row.id] = row }
        marks[focus] = marked.isEmpty ? nil : marked
        select(focus, index: index + 1)
        say(marked.isEmpty ? "No marks left." : "\(marked.count) marked; r redelivers them, M clears the marks.", .muted)
    }

    /// Whether a row of a pane is marked.
    public func isMarked(_ pane: PaneID, _ row: PaneRow) -> Bool {
        marks[pane]?[row.id] != nil
    }

    /// `r` with marks: one question with the count, then one redelivery of them all.
    mutating func confirmMarkedRedelivery(_ marked: [String: PaneRow]) -> [ConsoleEffect] {
        // Attempts of one delivery are one redelivery; the ids in the order the pane shows them.
        var seen = Set<String>()
        let ids = marked.values.compactMap(\.deliveryID).sorted().filter { seen.insert($0).inserted }
        guard !ids.isEmpty else { return nothingSelected() }
        let noun = ids.count == 1 ? "delivery" : "deliveries"
        mode = .confirm(Confirmation(question: "Redeliver \(ids.count) marked \(noun)? [y/N]", action: .redeliverMarked(ids: ids)))
        return []
    }

    /// `s`: the pane's next column; past the last, the pane's own order again.
    mutating func cycleSort() {
        let columns = Panes.content(focus, snapshot: snapshot, now: now).columns.map(\.title)
        guard !columns.isEmpty else { return }
        let next: String?
        if let current = sorts[focus], let index = columns.firstIndex(of: current.column) {
            next = index + 1 < columns.count ? columns[index + 1] : nil
        } else {
            next = columns[0]
        }
        sorts[focus] = next.map { PaneSort(column: $0) }
        say(next.map { "\(focus.title) sorted by \($0); s for the next column, S reverses." } ?? "\(focus.title) in its own order (\(Self.ownOrder(focus))).", .muted)
    }

    /// `S`: the other direction (a pane in its own order is sorted by its first column, descending).
    mutating func reverseSort() {
        var sort = sorts[focus] ?? PaneSort(column: Panes.content(focus, snapshot: snapshot, now: now).columns.first?.title ?? "")
        sort.descending.toggle()
        sorts[focus] = sort
        say("\(focus.title) sorted by \(sort.label).", .muted)
    }

    /// What a pane shows when it is not sorted, as its title says.
    public static func ownOrder(_ pane: PaneID) -> String {
        switch pane {
        case .subscriptions: return "trouble first"
        case .breakers: return "problems first"
        case .events, .failed, .attempts: return "newest first"
        }
    }

    // MARK: Mouse

    /// A click focuses the pane (or tab) under it and selects the row; the wheel moves the
    /// selection of the pane under the pointer three rows at a time.
    mutating func handleMouse(_ event: MouseEvent) -> [ConsoleEffect] {
        if event.kind == .click, let tab = layout.tabs.first(where: { $0.rect.contains(x: event.x, y: event.y) }) {
            return focus(tab.pane)
        }
        guard let frame = layout.panes.first(where: { $0.rect.contains(x: event.x, y: event.y) }) else { return [] }
        let effects = focus(frame.pane)
        switch event.kind {
        case .click:
            let offset = event.y - frame.firstRowY
            if offset >= 0 && offset < frame.visibleRows && frame.firstRowIndex + offset < rows(frame.pane).count {
                select(frame.pane, index: frame.firstRowIndex + offset)
            }
        case .wheelUp:
            select(frame.pane, index: (selectedIndex(frame.pane) ?? 0) - 3)
        case .wheelDown:
            select(frame.pane, index: (selectedIndex(frame.pane) ?? 0) + 3)
        }
        return effects
    }
}
