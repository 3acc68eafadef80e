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
        let top = 2
        let bottom = height - 2
        if width >= gridSize.width && height >= gridSize.height {
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
            drawTabs(&grid, state, y: top)
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
        // Second line: sparklines of the most recent minutes that fit, up to 60.
        let note = snapshot.tenant == nil ? "per minute, UTC" : "per minute, UTC, every tenant"
        let labels = " deliveries/min " + "  success " + "  " + note + " "
        let span = max(5, min(60, (grid.width - DisplayWidth.of(labels)) / 2))
        let minutes = Array(minuteSeries(snapshot).suffix(span))
        var x2 = grid.put(" deliveries/min ", x: 0, y: 1, style: .muted)
        x2 += grid.put(sparkline(minutes.map { Double($0.attempts) }), x: x2, y: 1, style: .sparkline)
        x2 += grid.put("  success ", x: x2, y: 1, style: .muted)
        let rates = minutes.map { $0.attempts == 0 ? -1 : Double($0.successes) / Double($0.attempts) }
        x2 += grid.put(sparkline(rates, fixedMaximum: 1), x: x2, y: 1, style: .sparkline)
        grid.put("  " + note, x: x2, y: 1, style: .muted)
    }

    /// 60 one-minute buckets ending at the snapshot, empty minutes included.
    static func minuteSeries(_ snapshot: DashboardSnapshot) -> [ActivityBucket] {
        let end = floor(snapshot.takenAt.timeIntervalSince1970 / 60) * 60
        var byMinute: [Int: ActivityBucket] = [:]
        for bucket in snapshot.throughput { byMinute[Int(bucket.start.timeIntervalSince1970)] = bucket }
        return (0..<60).map { offset in
            let minute = Int(end) - (59 - offset) * 60
            return byMinute[minute] ?? ActivityBucket(start: Date(timeIntervalSince1970: TimeInterval(minute)), attempts: 0, successes: 0)
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

    static func drawTabs(_ grid: inout ScreenGrid, _ state: ConsoleState, y: Int) {
        var x = 0
        for pane in PaneID.allCases {
            let label = " \(pane.rawValue + 1) \(pane.title) "
            x += grid.put(label, x: x, y: y, style: pane == state.focus ? .tabActive : .tabInactive)
            x += 1
        }
    }

    static func drawPane(_ grid: inout ScreenGrid, _ state: inout ConsoleState, _ pane: PaneID, x: Int, y: Int, width: Int, height: Int) {
        let focused = pane == state.focus
        let rows = state.rows(pane)
        let all = Panes.content(pane, snapshot: state.snapshot, now: state.now)
        var title = "\(pane.rawValue + 1) \(pane.title) (\(rows.count))"
        if pane == .subscriptions || pane == .breakers, let snapshot = state.snapshot, snapshot.endpointTotal > snapshot.endpoints.count {
            // A window of the endpoints: the ones that need an operator first, more as the selection moves down.
            title = "\(pane.rawValue + 1) \(pane.title) (\(rows.count) of \(snapshot.endpointTotal), problems first)"
        }
        if let filter = state.filters[pane] { title += " /\(filter)" }
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
        guard !rows.isEmpty else {
            let empty = state.snapshot == nil ? "loading…" : (state.filters[pane] != nil ? "no rows match the filter" : emptyText(pane))
            grid.put(empty, x: innerX + 1, y: y + 2, style: .muted, limit: innerWidth - 1)
            return
        }
        let selected = state.selectedIndex(pane) ?? 0
        let first = selected >= visible ? selected - visible + 1 : 0
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
