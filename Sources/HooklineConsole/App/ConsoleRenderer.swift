import Foundation
import HooklineCore

/// Lays out and draws the whole console into a grid: header, panes, overlays, flash line, footer.
public enum ConsoleRenderer {
    /// The smallest terminal the console draws in.
    public static let minimumSize = (width: 60, height: 15)
    /// The size from which all four panes show at once.
    public static let gridSize = (width: 120, height: 32)

    public static func render(_ state: inout ConsoleState, width: Int, height: Int) -> ScreenGrid {
        var grid = ScreenGrid(width: width, height: height)
        guard width >= minimumSize.width, height >= minimumSize.height else {
            let lines = [
                "Terminal too small: \(width)×\(height).",
                "Hookline needs at least \(minimumSize.width)×\(minimumSize.height); enlarge the window or press q.",
            ]
            for (offset, line) in lines.enumerated() {
                let y = height / 2 - 1 + offset
                grid.put(line, x: max(0, (width - DisplayWidth.of(line)) / 2), y: y, style: .warn, limit: width)
            }
            return grid
        }
        drawHeader(&grid, state)
        state.layout = ConsoleLayout()
        let top = 2
        let bottom = height - 2
        if width >= gridSize.width && height >= gridSize.height && state.focus == .attempts {
            // The live attempts view takes the whole body; Tab or 1-4 bring the grid back.
            drawPane(&grid, &state, .attempts, x: 0, y: top, width: width, height: bottom - top)
        } else if width >= gridSize.width && height >= gridSize.height {
            let leftWidth = width / 2
            let topHeight = (bottom - top) / 2
            let frames: [(PaneID, Int, Int, Int, Int)] = [
                (.subscriptions, 0, top, leftWidth, topHeight),
                (.events, leftWidth, top, width - leftWidth, topHeight),
                (.failed, 0, top + topHeight, leftWidth, bottom - top - topHeight),
                (.breakers, leftWidth, top + topHeight, width - leftWidth, bottom - top - topHeight),
            ]
            for (pane, x, y, w, h) in frames {
                drawPane(&grid, &state, pane, x: x, y: y, width: w, height: h)
            }
        } else {
            drawTabs(&grid, &state, y: top)
            drawPane(&grid, &state, state.focus, x: 0, y: top + 1, width: width, height: bottom - top - 1)
        }
        drawOverlay(&grid, &state, top: top, bottom: bottom)
        drawFlash(&grid, state, y: height - 2)
        drawFooter(&grid, state, y: height - 1)
        return grid
    }

    // MARK: Header

    static func drawHeader(_ grid: inout ScreenGrid, _ state: ConsoleState) {
        grid.fill(x: 0, y: 0, width: grid.width, height: 2, style: .header)
        var x = grid.put(" Hookline ", x: 0, y: 0, style: .title)
        if let error = state.refreshError {
            grid.fill(x: 0, y: 1, width: grid.width, height: 1, style: .error)
            grid.put(" Cannot read the store, retrying: \(error)", x: 0, y: 1, style: .error, limit: grid.width)
        }
        guard let snapshot = state.snapshot else {
            grid.put("reading the store…", x: x + 1, y: 0, style: .header)
            return
        }
        let refreshed = "refreshed \(Panes.clock(snapshot.takenAt))Z" + (state.paused ? " PAUSED" : "")
        let right = grid.width - DisplayWidth.of(refreshed) - 1
        let lastHour = snapshot.throughput.filter { $0.start >= snapshot.takenAt.addingTimeInterval(-3600) }
        let attempts = lastHour.reduce(0) { $0 + $1.attempts }
        let successes = lastHour.reduce(0) { $0 + $1.successes }
        // The last complete minute: the current one is still filling up.
        let lastFullMinute = Date(timeIntervalSince1970: (floor(snapshot.takenAt.timeIntervalSince1970 / 60) - 1) * 60)
        let perMinute = lastHour.first { $0.start == lastFullMinute }?.attempts ?? 0
        // Segments in order of importance; each is drawn only if it fits whole before the refresh time.
        var segments: [(String, StyleToken)] = [("\(perMinute)/min", .header)]
        // A scoped console says so first: the panes show one tenant, the counts every tenant.
        if let tenant = snapshot.tenant { segments.insert(("tenant \(tenant)", .key), at: 0) }
        if attempts > 0 {
            let rate = Double(successes) / Double(attempts)
            segments.append(("ok \(Panes.percent(rate))", rate >= 0.95 ? .ok : (rate >= 0.5 ? .warn : .error)))
        }
        segments.append(("failed \(snapshot.counts.failed)", snapshot.counts.failed > 0 ? .error : .header))
        segments.append(("open breakers \(snapshot.openBreakers)", snapshot.openBreakers > 0 ? .breakerOpen : .header))
        segments.append(("pending \(snapshot.counts.pending)", .header))
        segments.append(("held \(snapshot.counts.held)", snapshot.counts.held > 0 ? .warn : .header))
        if let storage = snapshot.storage { segments.append(("db \(StorageSize.format(storage.bytes))", .header)) }
        let reserved = segments.reduce(0) { $0 + DisplayWidth.of($1.0) + 2 }
        let locationRoom = max(10, right - x - reserved - 2)
        x += grid.put(" " + DisplayWidth.clip(snapshot.location, to: locationRoom), x: x, y: 0, style: .header)
        for (text, style) in segments where x + 2 + DisplayWidth.of(text) < right {
            x += grid.put("  " + text, x: x, y: 0, style: style)
        }
        if right > x { grid.put(refreshed, x: right, y: 0, style: state.paused ? .warn : .muted) }

        guard state.refreshError == nil else { return }
        // Second line: sparklines of the most recent seconds (up to 120) or minutes (up to 60) that fit.
        let perSecond = state.activityPerSecond
        let unit = perSecond ? "s" : "min"
        let scope = snapshot.tenant == nil ? "UTC" : "UTC, every tenant"
        let series = perSecond ? secondSeries(snapshot) : minuteSeries(snapshot)
        let note = { (count: Int) in "last \(count)\(perSecond ? "s" : " min") \(scope) · w: per \(perSecond ? "minute" : "second")" }
        let labels = DisplayWidth.of(" deliveries/\(unit) " + "  success " + "  " + note(series.count))
        let span = max(5, min(series.count, (grid.width - labels - 1) / 2))
        let buckets = Array(series.suffix(span))
        var x2 = grid.put(" deliveries/\(unit) ", x: 0, y: 1, style: .muted)
        x2 += grid.put(sparkline(buckets.map { Double($0.attempts) }), x: x2, y: 1, style: .sparkline)
        x2 += grid.put("  success ", x: x2, y: 1, style: .muted)
        let rates = buckets.map { $0.attempts == 0 ? -1 : Double($0.successes) / Double($0.attempts) }
        x2 += grid.put(sparkline(rates, fixedMaximum: 1), x: x2, y: 1, style: .sparkline)
        grid.put("  " + note(buckets.count), x: x2, y: 1, style: .muted, limit: max(0, grid.width - x2))
    }

    /// 120 one-second buckets ending at the last full second before the snapshot, empty ones included.
    static func secondSeries(_ snapshot: DashboardSnapshot) -> [ActivityBucket] {
        series(snapshot.perSecond, end: floor(snapshot.takenAt.timeIntervalSince1970) - 1, step: 1, count: 120)
    }

    /// 60 one-minute buckets ending at the snapshot, empty minutes included.
    static func minuteSeries(_ snapshot: DashboardSnapshot) -> [ActivityBucket] {
        series(snapshot.throughput, end: floor(snapshot.takenAt.timeIntervalSince1970 / 60) * 60, step: 60, count: 60)
    }

    /// `count` buckets of `step` seconds, the last starting at `end`, filled from `buckets`.
    static func series(_ buckets: [ActivityBucket], end: TimeInterval, step: Int, count: Int) -> [ActivityBucket] {
        var byStart: [Int: ActivityBucket] = [:]
        for bucket in buckets { byStart[Int(bucket.start.timeIntervalSince1970)] = bucket }
        return (0..<count).map { offset in
            let start = Int(end) - (count - 1 - offset) * step
            return byStart[start] ?? ActivityBucket(start: Date(timeIntervalSince1970: TimeInterval(start)), attempts: 0, successes: 0)
        }
    }

    /// `▁▂▃▄▅▆▇█` per value; a negative value (no data) is a space.
    public static func sparkline(_ values: [Double], fixedMaximum: Double? = nil) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        let maximum = fixedMaximum ?? max(1, values.max() ?? 1)
        return String(values.map { value -> Character in
            guard value >= 0 else { return " " }
            let index = Int((value / maximum) * Double(blocks.count - 1) + 0.5)
            return blocks[max(0, min(blocks.count - 1, index))]
        })
    }

    // MARK: Panes

    static func drawTabs(_ grid: inout ScreenGrid, _ state: inout ConsoleState, y: Int) {
        var x = 0
        for pane in PaneID.allCases {
            let label = " \(pane.rawValue + 1) \(pane.title) "
            let drawn = grid.put(label, x: x, y: y, style: pane == state.focus ? .tabActive : .tabInactive)
            state.layout.tabs.append((pane, ScreenRect(x: x, y: y, width: drawn, height: 1)))
            x += drawn + 1
        }
    }

    /// The pane's title: number, name, rows, and how the rows are chosen and ordered.
    static func paneTitle(_ state: ConsoleState, _ pane: PaneID, rowCount: Int) -> String {
        var title = "\(pane.rawValue + 1) \(pane.title) (\(rowCount))"
        if pane == .subscriptions || pane == .breakers, let snapshot = state.snapshot, snapshot.endpointTotal > snapshot.endpoints.count {
            // A window of the endpoints: the ones that need an operator first, more as the selection moves down.
            title = "\(pane.rawValue + 1) \(pane.title) (\(rowCount) of \(snapshot.endpointTotal))"
        }
        var notes: [String] = []
        if let sort = state.sorts[pane] { notes.append("sort \(sort.label)") } else { notes.append(ConsoleState.ownOrder(pane)) }
        if pane == .attempts { notes.insert("live", at: 0) }
        if let window = state.recentWindow, [.events, .failed, .attempts].contains(pane) { notes.append("last \(DurationText.format(window))") }
        if let marked = state.marks[pane], !marked.isEmpty { notes.append("\(marked.count) marked") }
        if let filter = state.filters[pane] { notes.append("/\(filter)") }
        return title + " · " + notes.joined(separator: " · ")
    }

    static func drawPane(_ grid: inout ScreenGrid, _ state: inout ConsoleState, _ pane: PaneID, x: Int, y: Int, width: Int, height: Int) {
        let focused = pane == state.focus
        let rows = state.rows(pane)
        let all = Panes.content(pane, snapshot: state.snapshot, now: state.now)
        let title = paneTitle(state, pane, rowCount: rows.count)
        grid.box(x: x, y: y, width: width, height: height, title: title, focused: focused)
        let innerX = x + 1, innerWidth = width - 2
        let widths = columnWidths(all.columns, total: innerWidth - 1)
        var cx = innerX + 1
        for (column, w) in zip(all.columns, widths) {
            grid.put(DisplayWidth.pad(column.title, to: w, alignRight: column.alignRight), x: cx, y: y + 1, style: .muted)
            cx += w + 1
        }
        let visible = max(0, height - 3)
        if focused { state.pageSize = max(1, visible) }
        let selected = state.selectedIndex(pane) ?? 0
        let first = selected >= visible ? selected - visible + 1 : 0
        state.layout.panes.append(ConsoleLayout.PaneFrame(
            pane: pane, rect: ScreenRect(x: x, y: y, width: width, height: height), firstRowY: y + 2, firstRowIndex: first, visibleRows: visible))
        guard !rows.isEmpty else {
            let empty = state.snapshot == nil ? "loading…" : (state.filters[pane] != nil ? "no rows match the filter" : emptyText(pane))
            grid.put(empty, x: innerX + 1, y: y + 2, style: .muted, limit: innerWidth - 1)
            return
        }
        for (offset, row) in rows[first..<min(rows.count, first + visible)].enumerated() {
            let ry = y + 2 + offset
            let isSelected = focused && first + offset == selected
            var rx = innerX + 1
            for (index, (column, w)) in zip(all.columns, widths).enumerated() {
                let text = index < row.cells.count ? row.cells[index] : ""
                let style = isSelected ? .selection : (index < row.styles.count ? row.styles[index] : .text)
                grid.put(DisplayWidth.pad(text, to: w, alignRight: column.alignRight), x: rx, y: ry, style: style)
                rx += w + 1
            }
            if isSelected {
                grid.restyle(x: innerX, y: ry, width: innerWidth, style: .selection)
            }
            // A mark sits in the gutter left of the row.
            if state.isMarked(pane, row) { grid.put("*", x: innerX, y: ry, style: isSelected ? .selection : .key) }
        }
        if rows.count > visible {
            let marker = "\(selected + 1)/\(rows.count)"
            grid.put(" \(marker) ", x: x + width - DisplayWidth.of(marker) - 4, y: y + height - 1, style: .muted)
        }
    }

    static func emptyText(_ pane: PaneID) -> String {
        switch pane {
        case .subscriptions: return "no endpoints; add one with `hookline endpoint add URL`"
        case .events: return "no events yet"
        case .failed: return "no failed deliveries"
        case .breakers: return "no endpoints"
        case .attempts: return "no attempts in the last hour"
        }
    }

    /// Fixed widths as given; the rest shared among flexible columns, one space between columns.
    static func columnWidths(_ columns: [PaneColumn], total: Int) -> [Int] {
        let gaps = max(0, columns.count - 1)
        let fixed = columns.reduce(0) { $0 + $1.width }
        let flexible = columns.filter { $0.width == 0 }.count
        let spare = max(0, total - fixed - gaps)
        var remaining = spare
        return columns.enumerated().map { index, column in
            guard column.width == 0 else { return column.width }
            let isLastFlexible = !columns[(index + 1)...].contains { $0.width == 0 }
            let share = isLastFlexible ? remaining : spare / max(1, flexible)
            remaining -= share
            return max(0, share)
        }
    }

    // MARK: Overlays, flash, footer

    static func drawOverlay(_ grid: inout ScreenGrid, _ state: inout ConsoleState, top: Int, bottom: Int) {
        switch state.mode {
        case .view(let view):
            let height = bottom - top
            grid.fill(x: 0, y: top, width: grid.width, height: height, style: .text)
            grid.box(x: 0, y: top, width: grid.width, height: height, title: view.title, focused: true)
            let visible = height - 2
            state.pageSize = max(1, visible)
            for (offset, line) in view.lines.dropFirst(view.scroll).prefix(visible).enumerated() {
                grid.put(line.text, x: 2, y: top + 1 + offset, style: line.style, limit: grid.width - 4)
            }
            if view.lines.count > visible {
                let marker = " \(view.scroll + 1)-\(min(view.lines.count, view.scroll + visible)) of \(view.lines.count) "
                grid.put(marker, x: grid.width - DisplayWidth.of(marker) - 2, y: bottom - 1, style: .muted)
            }
        case .editTypes(let editor):
            let height = min(bottom - top, editor.items.count + 4)
            let width = min(grid.width - 4, 50)
            let x = (grid.width - width) / 2
            grid.fill(x: x, y: top + 1, width: width, height: height, style: .text)
            grid.box(x: x, y: top + 1, width: width, height: height, title: "Event types of \(editor.endpointID)", focused: true)
            for (index, item) in editor.items.enumerated() where index < height - 3 {
                let mark = editor.checked.contains(item) ? "[x]" : "[ ]"
                let label = item == "*" ? "* every type, including future ones" : item
                grid.put("\(mark) \(label)", x: x + 2, y: top + 2 + index, style: index == editor.cursor ? .selection : .text, limit: width - 4)
            }
            grid.put("Space toggles, Enter saves, Esc cancels", x: x + 2, y: top + height - 1, style: .muted, limit: width - 4)
        default:
            break
        }
    }

    static func drawFlash(_ grid: inout ScreenGrid, _ state: ConsoleState, y: Int) {
        switch state.mode {
        case .filtering(let text):
            grid.put("/" + text + "▏", x: 1, y: y, style: .key)
            grid.put("  Enter applies, Esc cancels, ! inverts", x: DisplayWidth.of(text) + 3, y: y, style: .muted)
        case .choosingTenant(let text):
            let prompt = "tenant: " + text + "▏"
            grid.put(prompt, x: 1, y: y, style: .key)
            grid.put("  Enter shows that tenant only (empty: every tenant), Esc cancels", x: DisplayWidth.of(prompt) + 1, y: y, style: .muted)
        case .command(let prompt):
            let line = ":" + prompt.text + "▏"
            grid.put(line, x: 1, y: y, style: .key)
            let hint = prompt.candidates.isEmpty ? "  Tab completes; " + CommandPrompt.summary : "  " + prompt.candidates.joined(separator: "  ")
            grid.put(hint, x: DisplayWidth.of(line) + 1, y: y, style: .muted, limit: max(0, grid.width - DisplayWidth.of(line) - 2))
        case .confirm(let confirmation):
            grid.fill(x: 0, y: y, width: grid.width, height: 1, style: .warn)
            grid.put(" " + confirmation.question, x: 0, y: y, style: .warn)
        default:
            if let flash = state.flash {
                grid.put(" " + flash.text, x: 0, y: y, style: flash.style)
            }
        }
    }

    static func drawFooter(_ grid: inout ScreenGrid, _ state: ConsoleState, y: Int) {
        let pairs: [(key: String, help: String)]
        switch state.mode {
        case .view: pairs = [("j/k", "scroll"), ("PgUp/PgDn", "page"), ("Esc", "back")]
        case .editTypes: pairs = [("j/k", "move"), ("Space", "toggle"), ("Enter", "save"), ("Esc", "cancel")]
        case .confirm: pairs = [("y", "confirm"), ("any other key", "cancel")]
        case .filtering, .choosingTenant: pairs = [("Enter", "apply"), ("Esc", "cancel")]
        case .command: pairs = [("Tab", "complete"), ("Enter", "run"), ("Esc", "cancel")]
        case .normal: pairs = Keymap.footer(for: state.focus)
        }
        // Help and quit always show; other keys as many as fit, in the keymap's order.
        let essential = pairs.filter { $0.help == "help" || $0.help == "quit" }
        let others = pairs.filter { $0.help != "help" && $0.help != "quit" }
        let width = { (pair: (key: String, help: String)) in DisplayWidth.of(pair.key) + DisplayWidth.of(pair.help) + 3 }
        let readOnlyWidth = state.readOnly ? 11 : 0
        var room = grid.width - 1 - essential.reduce(0) { $0 + width($1) } - readOnlyWidth
        var shown: [(key: String, help: String)] = []
        for pair in others where width(pair) <= room {
            shown.append(pair)
            room -= width(pair)
        }
        var x = 1
        for pair in shown + essential {
            x += grid.put(pair.key, x: x, y: y, style: .key)
            x += grid.put(" " + pair.help + "  ", x: x, y: y, style: .muted)
        }
        if state.readOnly {
            let label = "READ-ONLY"
            grid.put(label, x: grid.width - DisplayWidth.of(label) - 1, y: y, style: .warn)
        }
    }
}
