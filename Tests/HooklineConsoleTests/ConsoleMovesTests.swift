import Foundation
@testable import HooklineConsole
@testable import HooklineCore
import Testing

/// The operator's moves of issue 17: the live attempts view, the `:` command line, marks and bulk
/// redelivery, sorting, per-second activity, copying, the pager and the mouse; drawn at the grid's
/// size and at 80×24 (tabs).
@Suite struct ConsoleMovesTests {
    static let sizes = [(120, 32), (80, 24)]

    /// Every body row of the grid starts and ends on a border and is exactly as wide as the screen.
    static func expectIntactBorders(_ grid: ScreenGrid, width: Int, from top: Int, to bottom: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        for y in top..<bottom {
            let line = grid.line(y)
            #expect(DisplayWidth.of(line) == width, "row \(y) is \(DisplayWidth.of(line)) columns: \(line)", sourceLocation: sourceLocation)
            #expect(line.hasPrefix("│") || line.hasPrefix("┌") || line.hasPrefix("└"), "row \(y): \(line)", sourceLocation: sourceLocation)
            #expect(line.hasSuffix("│") || line.hasSuffix("┐") || line.hasSuffix("┘"), "row \(y): \(line)", sourceLocation: sourceLocation)
        }
    }

    static func line(_ grid: ScreenGrid, containing needle: String) -> String {
        grid.text.split(separator: "\n").first { $0.contains(needle) }.map(String.init) ?? ""
    }

    // MARK: Attempts view

    @Test(arguments: sizes)
    func fiveShowsEveryAttemptNewestFirstWithItsOutcome(_ size: (Int, Int)) {
        var state = ConsoleFixtures.state()
        #expect(state.handle(.character("5")) == [.refreshNow], "the view is read only while it shows: a frame now")
        let grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(grid.contains("5 Attempts (6) · live · newest first"), "\(grid.text)")
        for column in ["TIME", "ENDPOINT", "TYPE", "STATUS", "DURATION"] { #expect(grid.contains(column), "\(column)\n\(grid.text)") }
        let failure = Self.line(grid, containing: "5003ms")
        #expect(failure.contains("Legacy ERP") && failure.contains("503") && failure.contains("case.lost") && failure.contains("15:59:59"), "\(failure)")
        #expect(grid.style(of: "503") == .error)
        #expect(grid.style(of: "5003ms") == .warn, "a slow attempt stands out")
        let rows = grid.text.split(separator: "\n").filter { $0.contains("case.created") || $0.contains("case.lost") }
        #expect(rows.count == 6, "every attempt of the frame:\n\(grid.text)")
        Self.expectIntactBorders(grid, width: size.0, from: size.0 >= 120 ? 2 : 3, to: size.1 - 2)
        if size.0 < 120 { #expect(grid.style(of: " 5 Attempts ") == .tabActive) }
        #expect(state.handle(.enter) == [.run(.openDelivery(id: "dlv_a0"))])
        // Back to the grid: reading attempts stops.
        #expect(state.handle(.character("1")) == [.refreshNow])
    }

    @Test func theAttemptsViewFiltersPausesAndShowsTenantsAndWideNames() {
        var snapshot = ConsoleFixtures.snapshot(endpoints: [
            ConsoleFixtures.overview(ConsoleFixtures.endpoint("ep_crm", "顧客管理システム連携エンドポイント")),
            ConsoleFixtures.overview(ConsoleFixtures.endpoint("ep_erp", "Alerts 🚨🚨🚨 channel"), state: .open),
        ])
        snapshot.attempts = snapshot.attempts.map { var row = $0; row.tenant = row.endpointID == "ep_erp" ? "acme" : "globex"; return row }
        snapshot.tenantCount = 2
        var state = ConsoleFixtures.state(snapshot)
        _ = state.handle(.character("5"))
        for (width, height) in Self.sizes {
            let grid = ConsoleRenderer.render(&state, width: width, height: height)
            #expect(grid.contains("TENANT"))
            #expect(Self.line(grid, containing: "5003ms").contains("acme"))
            Self.expectIntactBorders(grid, width: width, from: width >= 120 ? 2 : 3, to: height - 2)
        }
        _ = state.handle(.character("/"))
        for c in "503" { _ = state.handle(.character(c)) }
        _ = state.handle(.enter)
        #expect(state.rows(.attempts).count == 3)
        #expect(state.rows(.attempts).allSatisfy { $0.cells.contains("503") })
        let grid = ConsoleRenderer.render(&state, width: 120, height: 32)
        #expect(grid.contains("5 Attempts (3) · live · newest first · /503"))
        _ = state.handle(.character("p"))
        #expect(state.paused)
        #expect(ConsoleRenderer.render(&state, width: 120, height: 32).line(0).contains("PAUSED"))
    }

    @Test(arguments: sizes)
    func wideNamesKeepMarksSortsAndTheCommandLineInsideTheBorders(_ size: (Int, Int)) {
        var snapshot = ConsoleFixtures.snapshot(endpoints: [
            ConsoleFixtures.overview(ConsoleFixtures.endpoint("ep_crm", "顧客管理システム連携エンドポイント")),
            ConsoleFixtures.overview(ConsoleFixtures.endpoint("ep_erp", "Alerts 🚨🚨🚨 channel"), state: .open, attempts: 10, successes: 0),
        ], failed: 3)
        snapshot.tenantCount = 2
        snapshot.failed = snapshot.failed.map { DeliveryRow(delivery: $0.delivery, eventType: $0.eventType, tenant: "東京支社") }
        var state = ConsoleFixtures.state(snapshot)
        state.recentWindow = 3600
        for pane in [PaneID.subscriptions, .failed, .attempts] {
            state.focus = pane
            _ = state.handle(.character("m"))
            _ = state.handle(.character("m"))
            _ = state.handle(.character("s"))
            _ = state.handle(.character("s"))
            let grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
            Self.expectIntactBorders(grid, width: size.0, from: size.0 >= 120 ? 2 : 3, to: size.1 - 2)
        }
        #expect(state.marks[.failed]?.count == 2 && state.marks[.attempts]?.count == 2)
        state.mode = .command(CommandPrompt(text: "tenant 東京", candidates: ["東京支社", "東京本社"]))
        let grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(grid.line(size.1 - 2).contains(":tenant 東京▏"))
        #expect(DisplayWidth.of(grid.line(size.1 - 2)) == size.0, "the prompt's candidates are clipped to the width")
    }

    // MARK: Command line

    @Test func aColonIdOpensItsDetailAndUnknownCommandsListTheCommands() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character(":"))
        for c in "dlv_0" { _ = state.handle(.character(c)) }
        var grid = ConsoleRenderer.render(&state, width: 120, height: 32)
        #expect(grid.line(30).contains(":dlv_0"), "the prompt is on the flash line: \(grid.line(30))")
        #expect(grid.line(31).contains("Tab complete"))
        #expect(state.handle(.enter) == [.run(.openDelivery(id: "dlv_0"))])
        #expect(state.mode == .normal)
        for (line, effect) in [("evt_3", ConsoleEffect.run(.openEvent(id: "evt_3"))), ("ep_crm", .run(.openEndpoint(id: "ep_crm"))),
                               ("tenant acme", .run(.scopeTenant("acme"))), ("theme light", .setTheme("light")), ("quit", .quit)] {
            _ = state.handle(.character(":"))
            for c in line { _ = state.handle(.character(c)) }
            #expect(state.handle(.enter) == [effect], "\(line)")
        }
        _ = state.handle(.character(":"))
        for c in "frobnicate" { _ = state.handle(.character(c)) }
        #expect(state.handle(.enter).isEmpty)
        #expect(state.flash?.text == "Unknown command 'frobnicate'; commands are \(CommandPrompt.summary).")
        grid = ConsoleRenderer.render(&state, width: 80, height: 24)
        #expect(grid.line(22).contains("Unknown command 'frobnicate'"))
        _ = state.handle(.character(":"))
        for c in "tenant" { _ = state.handle(.character(c)) }
        #expect(state.handle(.enter).isEmpty)
        #expect(state.flash?.text.hasPrefix("Showing every tenant already") == true)
        _ = state.handle(.character(":"))
        _ = state.handle(.backspace)
        #expect(state.mode == .normal, "Backspace on an empty line closes it")
    }

    @Test func sinceLimitsTheRecentPanesAndSaysSo() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character(":"))
        for c in "since 15m" { _ = state.handle(.character(c)) }
        #expect(state.handle(.enter) == [.refreshNow])
        #expect(state.recentWindow == 900)
        for (width, height) in [(120, 32)] {
            let grid = ConsoleRenderer.render(&state, width: width, height: height)
            #expect(grid.contains("2 Events (5) · newest first · last 15m"))
            #expect(grid.contains("3 Failed deliveries (2) · newest first · last 15m"))
            #expect(grid.contains("1 Subscriptions (3) · trouble first ─"), "endpoints are not limited in time")
        }
        _ = state.handle(.character(":"))
        for c in "since soon" { _ = state.handle(.character(c)) }
        #expect(state.handle(.enter).isEmpty)
        #expect(state.flash?.text == "'soon' is not a duration; write :since 15m (or 90s, 2h, 1d), or :since off.")
        #expect(state.recentWindow == 900, "a bad window changes nothing")
        _ = state.handle(.character(":"))
        for c in "since off" { _ = state.handle(.character(c)) }
        #expect(state.handle(.enter) == [.refreshNow])
        #expect(state.recentWindow == nil)
    }

    @Test func tabCompletesCommandsIdsTenantsAndThemes() {
        var state = ConsoleFixtures.state(ConsoleRenderingTests.tenantSnapshot())
        state.themeNames = ["dark", "high-contrast", "light", "monochrome"]
        func typed(_ text: String) -> CommandPrompt {
            state.mode = .command(CommandPrompt(text: text))
            _ = state.handle(.tab)
            guard case .command(let prompt) = state.mode else { return CommandPrompt(text: "<closed>") }
            return prompt
        }
        #expect(typed("ten").text == "tenant ")
        #expect(typed("tenant ac").text == "tenant acme")
        #expect(typed("th").text == "theme ")
        #expect(typed("theme h").text == "theme high-contrast")
        #expect(typed("since 1").candidates == ["15m", "1h"])
        #expect(typed("dlv_").candidates == ["dlv_0", "dlv_1", "dlv_a0", "dlv_a1", "dlv_a2", "dlv_a3", "dlv_a4", "dlv_a5"])
        #expect(typed("dlv_a").text == "dlv_a", "several candidates: what they share")
        #expect(typed("ep_e").text == "ep_erp")
        #expect(typed("xyz").text == "xyz" && typed("xyz").candidates.isEmpty)
        state.mode = .command(CommandPrompt(text: "t"))
        _ = state.handle(.tab)
        let grid = ConsoleRenderer.render(&state, width: 120, height: 32)
        #expect(grid.line(30).contains("tenant  theme"), "the candidates follow the prompt: \(grid.line(30))")
    }

    // MARK: Marks

    @Test func marksSurviveRefreshesAndRAsksOnceForThemAll() {
        var state = ConsoleFixtures.state(ConsoleFixtures.snapshot(failed: 4))
        _ = state.handle(.character("3"))
        for _ in 0..<3 { _ = state.handle(.character("m")) }
        #expect(state.marks[.failed]?.count == 3)
        #expect(state.flash?.text == "3 marked; r redelivers them, M clears the marks.")
        // A refresh with the same rows and one more keeps the marks on their rows.
        state.apply(ConsoleFixtures.snapshot(failed: 5))
        #expect(Set(state.marks[.failed]?.keys.map { $0 } ?? []) == ["dlv_0", "dlv_1", "dlv_2"])
        for (width, height) in Self.sizes {
            let grid = ConsoleRenderer.render(&state, width: width, height: height)
            #expect(grid.contains("· 3 marked"), "\(grid.text)")
            let marked = grid.text.split(separator: "\n").filter { $0.contains("│*") }
            #expect(marked.count == 3, "a mark in the gutter of each marked row:\n\(grid.text)")
        }
        #expect(state.handle(.character("r")).isEmpty)
        guard case .confirm(let confirmation) = state.mode else {
            Issue.record("r with marks asks first")
            return
        }
        #expect(confirmation.question == "Redeliver 3 marked deliveries? [y/N]")
        #expect(state.handle(.character("y")) == [.run(.redeliverMarked(ids: ["dlv_0", "dlv_1", "dlv_2"]))])
        #expect(state.marks[.failed] == nil, "done with once asked for")
        // Without marks, r is the selected row's redelivery, as before.
        #expect(state.handle(.character("r")) == [.run(.redeliver(deliveryID: state.selectedRow(.failed)!.deliveryID!))])
    }

    @Test func attemptsOfOneDeliveryAreOneRedeliveryAndMClearsMarks() {
        var snapshot = ConsoleFixtures.snapshot()
        snapshot.attempts[1].attempt.deliveryID = "dlv_a0"
        snapshot.attempts[1].attempt.number = 2
        var state = ConsoleFixtures.state(snapshot)
        _ = state.handle(.character("5"))
        _ = state.handle(.character("m"))
        _ = state.handle(.character("m"))
        _ = state.handle(.character("r"))
        guard case .confirm(let confirmation) = state.mode else {
            Issue.record("r with marks asks first")
            return
        }
        #expect(confirmation.question == "Redeliver 1 marked delivery? [y/N]")
        #expect(state.handle(.character("n")).isEmpty)
        #expect(state.marks[.attempts]?.count == 2, "a cancelled question keeps the marks")
        _ = state.handle(.character("M"))
        #expect(state.marks[.attempts] == nil)
        #expect(state.flash?.text == "Cleared 2 marks.")
        _ = state.handle(.character("1"))
        #expect(state.handle(.character("m")).isEmpty)
        #expect(state.marks[.subscriptions] == nil && state.flash?.text.contains("does nothing in Subscriptions") == true)
    }

    @Test func readOnlyRefusesTheBulkRedeliveryInTheOnePlace() {
        var state = ConsoleFixtures.state(readOnly: true)
        _ = state.handle(.character("3"))
        _ = state.handle(.character("m"))
        _ = state.handle(.character("m"))
        #expect(state.marks[.failed]?.count == 2, "marking changes nothing stored")
        #expect(state.handle(.character("r")).isEmpty)
        #expect(state.mode == .normal)
        #expect(state.flash?.text.hasPrefix("Read-only console") == true)
    }

    // MARK: Sorting

    @Test(arguments: sizes)
    func sCyclesTheSortColumnAndSReversesIt(_ size: (Int, Int)) {
        var state = ConsoleFixtures.state()
        #expect(state.rows(.subscriptions).map(\.id) == ["ep_erp", "ep_crm", "ep_mail"], "trouble first")
        _ = state.handle(.character("s"))
        #expect(state.sorts[.subscriptions] == PaneSort(column: "ON"))
        #expect(state.rows(.subscriptions).map(\.id) == ["ep_mail", "ep_erp", "ep_crm"], "off before on; equal keys keep their order")
        _ = state.handle(.character("s"))
        #expect(state.rows(.subscriptions).map(\.id) == ["ep_crm", "ep_mail", "ep_erp"], "by name: CRM, Email, Legacy")
        var grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(grid.contains("1 Subscriptions (3) · sort ENDPOINT ↑"), "\(grid.text)")
        _ = state.handle(.character("S"))
        #expect(state.rows(.subscriptions).map(\.id) == ["ep_erp", "ep_mail", "ep_crm"])
        grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(grid.contains("sort ENDPOINT ↓"))
        // Numbers sort as numbers: success rate 0 % first.
        state.sorts[.subscriptions] = PaneSort(column: "OK 1H")
        #expect(state.rows(.subscriptions).first?.id == "ep_erp")
        for _ in 0..<10 { _ = state.handle(.character("s")) }
        #expect(state.sorts[.subscriptions] == nil, "past the last column: the pane's own order")
        #expect(state.flash?.text == "Subscriptions in its own order (trouble first).")
    }

    @Test func timesAndAgesSortByWhenNotByText() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("5"))
        state.sorts[.attempts] = PaneSort(column: "DURATION", descending: true)
        #expect(state.rows(.attempts).first?.cells.last == "5003ms")
        state.sorts[.attempts] = PaneSort(column: "TIME")
        #expect(state.rows(.attempts).map(\.id).first == "dlv_a5#3", "oldest first when ascending")
        _ = state.handle(.character("3"))
        state.sorts[.failed] = PaneSort(column: "AGE", descending: true)
        #expect(state.rows(.failed).count == 2)
    }

    // MARK: Header, copy, pager

    @Test(arguments: sizes)
    func theHeaderShowsActivityPerSecondAndWSwitchesToMinutes(_ size: (Int, Int)) {
        var state = ConsoleFixtures.state()
        var grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        let header = grid.line(1)
        #expect(header.hasPrefix(" deliveries/s "))
        #expect(header.contains("s UTC · w: per minute"), "\(header)")
        // The fixture's busiest second (6 attempts, 13 s ago) is the tallest bar.
        #expect(header.contains("█"), "\(header)")
        #expect(DisplayWidth.of(header) == size.0)
        _ = state.handle(.character("w"))
        grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(grid.line(1).hasPrefix(" deliveries/min "))
        #expect(state.flash?.text == "Activity per minute, last hour.")
    }

    @Test func secondSeriesHasTwoMinutesEndingAtTheLastFullSecond() {
        let snapshot = ConsoleFixtures.snapshot()
        let series = ConsoleRenderer.secondSeries(snapshot)
        #expect(series.count == 120)
        #expect(series.last?.start == ConsoleFixtures.now.addingTimeInterval(-1))
        let expected: Int = (1...30).reduce(0) { $0 + $1 % 7 }
        let total: Int = series.reduce(0) { $0 + $1.attempts }
        #expect(total == expected)
    }

    @Test func yCopiesTheIdThePaneIsAboutAndVOpensThePager() {
        var state = ConsoleFixtures.state()
        #expect(state.handle(.character("y")) == [.copy("ep_erp")])
        _ = state.handle(.character("2"))
        #expect(state.handle(.character("y")) == [.copy("evt_0")])
        #expect(state.handle(.character("v")) == [.run(.pageEvent(id: "evt_0"))])
        _ = state.handle(.character("3"))
        #expect(state.handle(.character("y")) == [.copy("dlv_0")])
        #expect(state.handle(.character("v")) == [.run(.pageDelivery(id: "dlv_0"))])
        _ = state.handle(.character("5"))
        #expect(state.handle(.character("y")) == [.copy("dlv_a0")])
        _ = state.handle(.character("1"))
        #expect(state.handle(.character("v")).isEmpty, "no payload behind an endpoint")
    }

    // MARK: Mouse

    @Test func aClickSelectsAPaneAndARowAndTheWheelScrolls() {
        var state = ConsoleFixtures.state(ConsoleFixtures.snapshot(events: 40))
        _ = ConsoleRenderer.render(&state, width: 120, height: 32)
        let events = try! #require(state.layout.panes.first { $0.pane == .events })
        // The third row of the Events pane.
        _ = state.handle(.mouse(MouseEvent(x: events.rect.x + 5, y: events.firstRowY + 2, kind: .click)))
        #expect(state.focus == .events)
        #expect(state.selectedRow(.events)?.id == "evt_2")
        _ = state.handle(.mouse(MouseEvent(x: events.rect.x + 5, y: events.firstRowY + 1, kind: .wheelDown)))
        #expect(state.selectedRow(.events)?.id == "evt_5")
        _ = state.handle(.mouse(MouseEvent(x: events.rect.x + 5, y: events.firstRowY, kind: .wheelUp)))
        #expect(state.selectedRow(.events)?.id == "evt_2")
        // A click below the last row selects nothing new; one on the border focuses only.
        let failed = try! #require(state.layout.panes.first { $0.pane == .failed })
        _ = state.handle(.mouse(MouseEvent(x: failed.rect.x + 3, y: failed.firstRowY + 10, kind: .click)))
        #expect(state.focus == .failed && state.selectedRow(.failed)?.id == "dlv_0")
        // Tabs at 80×24.
        _ = ConsoleRenderer.render(&state, width: 80, height: 24)
        let tab = try! #require(state.layout.tabs.first { $0.pane == .attempts })
        #expect(state.handle(.mouse(MouseEvent(x: tab.rect.x + 1, y: tab.rect.y, kind: .click))) == [.refreshNow])
        #expect(state.focus == .attempts)
        // In a detail view the wheel scrolls it.
        state.mode = .view(TextView(title: "t", lines: (0..<100).map { ("line \($0)", .text) }))
        _ = state.handle(.mouse(MouseEvent(x: 1, y: 5, kind: .wheelDown)))
        guard case .view(let view) = state.mode else {
            Issue.record("the view stays open")
            return
        }
        #expect(view.scroll == 3)
    }

    @Test func helpAndFooterListTheNewKeys() {
        let help = Keymap.helpLines().joined(separator: "\n")
        for key in [":", "m", "M", "s", "S", "y", "v", "w", "5"] {
            #expect(Keymap.bindings.contains { $0.keys.contains(.character(Character(key))) }, "\(key)")
        }
        #expect(help.contains("Mouse") && help.contains("--no-mouse"))
        #expect(help.contains("since 15m|off"))
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("3"))
        let grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.line(39).contains("m mark"), "\(grid.line(39))")
    }
}
