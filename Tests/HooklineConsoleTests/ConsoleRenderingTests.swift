import Foundation
@testable import HooklineConsole
@testable import HooklineCore
import Testing

@Suite struct ConsoleRenderingTests {
    @Test func aLargeTerminalShowsAllFourPanesWithHeaderAndFooter() {
        var state = ConsoleFixtures.state()
        var grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        for title in ["1 Subscriptions (3) · trouble first", "2 Events (5) · newest first", "3 Failed deliveries (2)", "4 Breakers (3)"] {
            #expect(grid.contains(title), "\(title)\n\(grid.text)")
        }
        #expect(grid.line(0).contains("/var/lib/hookline.db"))
        #expect(grid.line(0).contains("120/min"), "the last complete minute's attempts")
        #expect(grid.line(0).contains("ok 91.7%"))
        #expect(grid.line(0).contains("failed 2"))
        #expect(grid.line(0).contains("open breakers 1"))
        #expect(grid.line(0).contains("db 12 MB"), "the database's size")
        #expect(grid.line(0).contains("refreshed 16:00:00Z"))
        #expect(grid.line(1).contains("deliveries/s"), "per second by default")
        #expect(grid.line(39).contains("Space on/off"), "footer lists the keys of the focused pane")
        #expect(grid.contains("Legacy ERP"))
        #expect(grid.contains("HTTP 503"))
        #expect(grid.style(of: "off") == .warn)
        _ = state.handle(.character("w"))
        _ = state.handle(.character("2"))
        grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.line(1).contains("deliveries/min") && grid.line(1).contains("min UTC · w: per second"), "w: per minute")
        #expect(grid.style(of: "OPEN") == .breakerOpen)
    }

    @Test func theSelectedRowIsHighlightedOnlyInTheFocusedPane() {
        var state = ConsoleFixtures.state()
        var grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.style(of: "Legacy ERP") == .selection, "trouble first: the open breaker is the first row")
        _ = state.handle(.character("j"))
        grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.style(of: "CRM sync") == .selection)
        #expect(grid.style(of: "evt_0") != .selection)
    }

    @Test func aSmallTerminalShowsTabsAndOnePane() {
        var state = ConsoleFixtures.state()
        var grid = ConsoleRenderer.render(&state, width: 100, height: 30)
        #expect(grid.line(2).contains("1 Subscriptions"))
        #expect(grid.line(2).contains("4 Breakers"))
        #expect(grid.style(of: " 1 Subscriptions ") == .tabActive)
        #expect(grid.contains("CRM sync"))
        #expect(!grid.contains("evt_0"))
        _ = state.handle(.tab)
        grid = ConsoleRenderer.render(&state, width: 100, height: 30)
        #expect(grid.contains("evt_0"))
        #expect(grid.style(of: " 2 Events ") == .tabActive)
        #expect(grid.line(29).contains("Enter detail"))
        #expect(!grid.line(29).contains("Space on/off"), "Space does nothing in the Events pane, so the footer leaves it out")
    }

    @Test func aTooSmallTerminalSaysSoInsteadOfDrawing() {
        var state = ConsoleFixtures.state()
        let grid = ConsoleRenderer.render(&state, width: 50, height: 10)
        #expect(grid.contains("Terminal too small: 50×10."))
        #expect(!grid.contains("Subscriptions"))
    }

    @Test func wideCharactersAreMeasuredAndNeverBreakTheBorders() {
        let names = ["顧客管理システム連携エンドポイント", "Alerts 🚨🚨🚨 channel", "Ünïcödé e\u{301}"]
        let endpoints = names.enumerated().map { ConsoleFixtures.overview(ConsoleFixtures.endpoint("ep_\($0.offset)", $0.element)) }
        var state = ConsoleFixtures.state(ConsoleFixtures.snapshot(endpoints: endpoints))
        let grid = ConsoleRenderer.render(&state, width: 120, height: 32)
        for y in 2..<30 {
            let line = grid.line(y)
            #expect(DisplayWidth.of(line) == 120, "row \(y) is \(DisplayWidth.of(line)) columns: \(line)")
            #expect(line.hasPrefix("│") || line.hasPrefix("┌") || line.hasPrefix("└"))
            #expect(line.hasSuffix("│") || line.hasSuffix("┐") || line.hasSuffix("┘"), "row \(y): \(line)")
        }
        #expect(grid.contains("顧客管理"))
        #expect(DisplayWidth.of("顧客") == 4)
        #expect(DisplayWidth.of("🚨") == 2)
        #expect(DisplayWidth.of("e\u{301}") == 1)
    }

    @Test func controlCharactersFromAReceiverAreShownAsQuestionMarks() {
        // An endpoint description or an error text holding escape sequences must not reach the terminal.
        let hostile = "evil\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m"
        var state = ConsoleFixtures.state(ConsoleFixtures.snapshot(endpoints: [ConsoleFixtures.overview(ConsoleFixtures.endpoint("ep_1", hostile))]))
        let grid = ConsoleRenderer.render(&state, width: 120, height: 32)
        #expect(grid.contains("evil?]0;owned??[2J?31m"))
        for y in 0..<32 {
            #expect(!grid.line(y).unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }, "row \(y)")
        }
    }

    @Test func helpIsGeneratedFromTheKeymapTable() {
        let help = Keymap.helpLines().joined(separator: "\n")
        for binding in Keymap.bindings {
            #expect(help.contains(binding.help), "help mentions \(binding.help)")
        }
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("?"))
        let grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.contains("reset the endpoint's breaker (Subscriptions, Breakers)"))
        _ = state.handle(.escape)
        #expect(state.mode == .normal)
    }

    /// Three tenants: acme's endpoint beside default's; the failed deliveries are acme's.
    static func tenantSnapshot(scope: String? = nil) -> DashboardSnapshot {
        var snapshot = ConsoleFixtures.snapshot()
        snapshot.endpoints[1].endpoint.tenant = "acme"
        snapshot.failed = snapshot.failed.map { DeliveryRow(delivery: $0.delivery, eventType: $0.eventType, tenant: "acme") }
        snapshot.tenantCount = 3
        snapshot.tenant = scope
        return snapshot
    }

    @Test(arguments: [(140, 40), (120, 32), (80, 24)])
    func severalTenantsGiveEveryPaneATenantColumnAndAScopeHidesIt(_ size: (Int, Int)) {
        var state = ConsoleFixtures.state(Self.tenantSnapshot())
        var grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(grid.contains("TENANT"), "\(grid.text)")
        let erp = grid.text.split(separator: "\n").first { $0.contains("Legacy ERP") } ?? ""
        #expect(erp.contains("acme"), "\(grid.text)")
        let crm = grid.text.split(separator: "\n").first { $0.contains("CRM sync") } ?? ""
        #expect(crm.contains("default"))
        if size.0 >= 120 {
            let failed = grid.text.split(separator: "\n").first { $0.contains("case.lost") } ?? ""
            #expect(failed.contains("acme"), "\(grid.text)")
        }

        state.apply(Self.tenantSnapshot(scope: "acme"))
        grid = ConsoleRenderer.render(&state, width: size.0, height: size.1)
        #expect(!grid.contains("TENANT"), "one tenant's panes need no column")
        #expect(grid.line(0).contains("tenant acme"), "the header says the console is scoped: \(grid.line(0))")
        #expect(grid.style(of: "tenant acme") == .key)

        // One tenant only (a database from before tenants): no column, no scope.
        var plain = ConsoleFixtures.state()
        #expect(!ConsoleRenderer.render(&plain, width: size.0, height: size.1).contains("TENANT"))
    }

    @Test func theDetailViewOfADeliveryShowsItsTenantAndCustomHeadersMasked() {
        var endpoint = ConsoleFixtures.endpoint("ep_erp", "Legacy ERP")
        endpoint.headers = [EndpointHeader(name: "X-Acme-Account", value: "42"), EndpointHeader(name: "Authorization", value: "Bearer receiver-secret-9876")]
        let delivery = Delivery(id: "dlv_1", eventID: "evt_1", endpointID: "ep_erp", status: .failed, attempts: 1,
                                nextAttemptAt: nil, createdAt: ConsoleFixtures.now, updatedAt: ConsoleFixtures.now)
        let view = DetailViews.delivery(DeliveryDetail(
            delivery: delivery, event: Event(id: "evt_1", type: "case.lost", payload: Array("{}".utf8), createdAt: ConsoleFixtures.now, tenant: "acme"),
            endpoint: endpoint, attempts: []))
        let text = view.lines.map(\.text).joined(separator: "\n")
        #expect(text.contains("Tenant     acme"))
        #expect(text.contains("X-Acme-Account: 42   (custom)"), "\(text)")
        #expect(text.contains("Authorization: ") && !text.contains("receiver-secret-9876"), "credential-like values stay masked")
        let signature = text.range(of: "X-Webhook-Signature")!.lowerBound
        #expect(signature < text.range(of: "X-Acme-Account")!.lowerBound, "sent after Hookline's own headers")
    }

    @Test func theDetailViewOfADeliveryShowsHeadersAttemptsAndNeverTheSecret() {
        let endpoint = ConsoleFixtures.endpoint("ep_erp", "Legacy ERP")
        let payload = Array(#"{"event":"case.lost","id":"evt_1","timestamp":"2025-11-24T16:00:00Z","data":{"case":{"id":"c"}}}"#.utf8)
        let delivery = Delivery(id: "dlv_1", eventID: "evt_1", endpointID: "ep_erp", status: .pending, attempts: 1,
                                nextAttemptAt: ConsoleFixtures.now.addingTimeInterval(5), createdAt: ConsoleFixtures.now, updatedAt: ConsoleFixtures.now)
        let attempt = Attempt(deliveryID: "dlv_1", number: 1, trigger: .scheduled, startedAt: ConsoleFixtures.now, durationMs: 31,
                              statusCode: 503, errorClass: "http_status", errorMessage: "HTTP 503", responseExcerpt: "maintenance")
        let view = DetailViews.delivery(DeliveryDetail(
            delivery: delivery, event: Event(id: "evt_1", type: "case.lost", payload: payload, createdAt: ConsoleFixtures.now),
            endpoint: endpoint, attempts: [attempt]))
        let text = view.lines.map(\.text).joined(separator: "\n")
        #expect(text.contains("X-Webhook-Signature: "))
        #expect(text.contains("X-Webhook-Attempt: 2"), "the next attempt's headers")
        #expect(text.contains("#1 scheduled"))
        #expect(text.contains("HTTP 503"))
        #expect(text.contains("response: maintenance"))
        #expect(text.contains("Next       2025-11-24T16:00:05Z"))
        #expect(!text.contains(endpoint.secret))
    }

    @Test func aRedactedEventSaysSoAndItsDeliveryShowsNoHeadersSignedOverDataThatIsGone() {
        let endpoint = ConsoleFixtures.endpoint("ep_erp", "Legacy ERP")
        let payload = Array(#"{"data":"[redacted]","event":"case.lost","id":"evt_1","timestamp":"2025-11-24T16:00:00Z"}"#.utf8)
        let event = Event(id: "evt_1", type: "case.lost", payload: payload, createdAt: ConsoleFixtures.now, redactedAt: ConsoleFixtures.now.addingTimeInterval(60))
        let delivery = Delivery(id: "dlv_1", eventID: "evt_1", endpointID: "ep_erp", status: .succeeded, attempts: 1,
                                nextAttemptAt: nil, createdAt: ConsoleFixtures.now, updatedAt: ConsoleFixtures.now)
        let eventText = DetailViews.event(EventDetail(summary: EventSummary(event: event, deliveries: 1), deliveries: [delivery])).lines
        #expect(eventText.contains { $0.text == "Redacted   2025-11-24T16:01:00Z: its data and responses were erased; it is never sent again" && $0.style == .warn })
        #expect(eventText.contains { $0.text.contains(#""data": "[redacted]""#) })
        let deliveryText = DetailViews.delivery(DeliveryDetail(delivery: delivery, event: event, endpoint: endpoint, attempts: [])).lines.map(\.text)
        #expect(!deliveryText.contains { $0.contains("X-Webhook-Signature") })
        #expect(deliveryText.contains("The event was redacted: its data, and so the headers signed over it, are gone."))
    }
}

@Suite struct ConsoleKeyTests {
    @Test func atScopesEveryPaneToATenantTheStoreKnowsAndAnEmptyLineClearsIt() {
        var state = ConsoleFixtures.state()
        #expect(state.handle(.character("@")).isEmpty)
        #expect(state.mode == .choosingTenant(""))
        for c in "acme" { _ = state.handle(.character(c)) }
        let effects = state.handle(.enter)
        #expect(effects == [.run(.scopeTenant("acme"))], "the session checks the tenant exists before scoping")
        #expect(state.tenantScope == nil)
        state.scope(to: "acme")
        #expect(state.tenantScope == "acme")
        #expect(state.endpointWindow().tenant == "acme", "the next frame reads acme's rows only")
        #expect(state.flash?.text.contains("acme") == true)
        _ = state.handle(.character("@"))
        #expect(state.mode == .choosingTenant("acme"), "the prompt starts from the current scope")
        for _ in 0..<4 { _ = state.handle(.backspace) }
        #expect(state.handle(.enter) == [.run(.scopeTenant(nil))])
        _ = state.handle(.character("@"))
        #expect(state.handle(.escape).isEmpty)
        #expect(state.mode == .normal)
        #expect(Keymap.helpLines().contains { $0.hasPrefix("@") && $0.contains("tenant") })
    }

    @Test func filterNarrowsThePaneAndBangInverts() {
        var state = ConsoleFixtures.state()
        for key in [Key.character("/"), .character("e"), .character("r"), .character("p"), .enter] { _ = state.handle(key) }
        #expect(state.rows(.subscriptions).map(\.id) == ["ep_erp"])
        _ = state.handle(.character("/"))
        _ = state.handle(.backspace); _ = state.handle(.backspace); _ = state.handle(.backspace)
        for key in [Key.character("!"), .character("e"), .character("r"), .character("p"), .enter] { _ = state.handle(key) }
        #expect(state.rows(.subscriptions).map(\.id) == ["ep_crm", "ep_mail"])
        _ = state.handle(.escape)
        #expect(state.rows(.subscriptions).count == 3)
    }

    @Test func readOnlyRefusesEveryActionInOnePlace() {
        var state = ConsoleFixtures.state(readOnly: true)
        for key in [Key.character(" "), .character("R"), .character("b"), .character("e"), .character("T")] {
            #expect(state.handle(key).isEmpty)
            #expect(state.mode == .normal)
            #expect(state.flash?.text.hasPrefix("Read-only console") == true)
        }
        _ = state.handle(.character("3"))
        #expect(state.handle(.character("r")).isEmpty)
        #expect(state.flash?.text.hasPrefix("Read-only console") == true)
    }

    @Test func disablingAsksFirstAndAnyOtherKeyCancels() {
        var state = ConsoleFixtures.state()
        #expect(state.handle(.character(" ")).isEmpty)
        guard case .confirm(let confirmation) = state.mode else {
            Issue.record("expected a confirmation")
            return
        }
        #expect(confirmation.question.contains("Disable Legacy ERP?"))
        #expect(state.handle(.character("n")).isEmpty)
        #expect(state.flash?.text == "Cancelled.")
        _ = state.handle(.character(" "))
        #expect(state.handle(.character("y")) == [.run(.disable(endpointID: "ep_erp"))])
    }

    @Test func tSendsATestToTheSelectedSubscriptionAndSaysSo() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("j"))
        #expect(state.handle(.character("T")) == [.run(.testSend(endpointID: "ep_crm"))])
        #expect(state.flash?.text == "Sending a test case.created to ep_crm…")
        let grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.line(39).contains("T test"), "the footer offers it on the Subscriptions pane")
        _ = state.handle(.character("2"))
        #expect(state.handle(.character("T")).isEmpty, "only on the Subscriptions pane")
    }

    @Test func theEndpointViewListsItsTestSends() {
        let endpoint = ConsoleFixtures.endpoint("ep_crm", "CRM sync")
        let send = TestSend(
            endpointID: "ep_crm", eventID: "evt_test1", eventType: "case.created", startedAt: ConsoleFixtures.now, durationMs: 12,
            statusCode: 401, errorClass: "http_status", errorMessage: "HTTP 401")
        let view = DetailViews.endpoint(EndpointDetail(
            overview: ConsoleFixtures.overview(endpoint), recentAttempts: [], testSends: [send], history: []))
        let line = view.lines.first { $0.0.contains("evt_test1") }
        #expect(line?.0.contains("test case.created evt_test1  12 ms  http_status: HTTP 401") == true)
        #expect(line?.1 == .error)
    }

    @Test func enablingADisabledEndpointFirstCountsItsHeldDeliveries() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("G"))
        #expect(state.handle(.character(" ")) == [.run(.previewEnable(endpointID: "ep_mail"))])
    }

    @Test func redeliverAllFailedPreviewsForTheSelectedEndpoint() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("3"))
        #expect(state.handle(.character("r")) == [.run(.redeliver(deliveryID: "dlv_0"))])
        #expect(state.handle(.character("R")) == [.run(.previewRecover(endpointID: "ep_erp"))])
    }

    @Test func theEventTypeChecklistSavesTheNewSelection() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("G"))
        _ = state.handle(.character("e"))
        guard case .editTypes(let editor) = state.mode else {
            Issue.record("expected the editor")
            return
        }
        #expect(editor.checked == ["case.created"])
        _ = state.handle(.down); _ = state.handle(.down)  // case.updated
        _ = state.handle(.character(" "))
        #expect(state.handle(.enter) == [.run(.setEventTypes(endpointID: "ep_mail", types: .only(["case.created", "case.updated"])))])
    }

    @Test func theSelectionFollowsItsItemAcrossRefreshes() {
        var state = ConsoleFixtures.state()
        _ = state.handle(.character("2"))
        _ = state.handle(.character("j")); _ = state.handle(.character("j"))
        #expect(state.selectedRow(.events)?.id == "evt_2")
        var snapshot = ConsoleFixtures.snapshot()
        snapshot.events.insert(EventSummary(event: Event(id: "evt_new", type: "case.lost", payload: [], createdAt: ConsoleFixtures.now), deliveries: 1), at: 0)
        state.apply(snapshot)
        #expect(state.selectedRow(.events)?.id == "evt_2")
    }

    @Test func sparklinesScaleToTheLargestValue() {
        #expect(ConsoleRenderer.sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█")
        #expect(ConsoleRenderer.sparkline([-1, 1], fixedMaximum: 1) == " █")
    }
}

@Suite struct ConsoleRobustnessTests {
    @Test func aStoreThatCannotBeReadIsShownInTheHeaderNotACrash() {
        var state = ConsoleFixtures.state()
        state.refreshError = "Reading or writing '/var/lib/hookline.db' failed (disk I/O error); check the disk."
        let grid = ConsoleRenderer.render(&state, width: 140, height: 40)
        #expect(grid.line(1).contains("Cannot read the store, retrying: Reading or writing"))
        #expect(grid.style(of: "Cannot read the store") == .error)
        #expect(grid.contains("1 Subscriptions (3)"), "the last good snapshot stays on screen")
    }

    @Test func theMonochromeThemeHasNoColoursForNoColor() {
        for token in StyleToken.allCases {
            let style = Theme.monochrome.style(token)
            #expect(style.foreground == .default && style.background == .default, "\(token)")
        }
    }

    @Test func layoutsHoldAtTheEdgeSizes() {
        for (width, height) in [(60, 15), (119, 31), (120, 32), (200, 60)] {
            var state = ConsoleFixtures.state()
            let grid = ConsoleRenderer.render(&state, width: width, height: height)
            #expect(!grid.contains("Terminal too small"), "\(width)×\(height)")
            #expect(grid.contains("1 Subscriptions"), "\(width)×\(height)")
            #expect(grid.line(height - 1).contains("quit"), "footer at \(width)×\(height)")
            #expect(grid.contains("Failed deliveries (2)") == (width >= 120 && height >= 32), "\(width)×\(height)")
        }
        var state = ConsoleFixtures.state()
        #expect(ConsoleRenderer.render(&state, width: 59, height: 15).contains("Terminal too small: 59×15."))
        #expect(ConsoleRenderer.render(&state, width: 60, height: 14).contains("Terminal too small: 60×14."))
    }
}
