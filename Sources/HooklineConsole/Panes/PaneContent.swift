import Foundation
import HooklineCore

/// A column of a pane: title, width, alignment.
public struct PaneColumn: Sendable, Hashable {
    public var title: String
    /// Fixed width in columns; 0 shares what is left among flexible columns.
    public var width: Int
    public var alignRight: Bool

    public init(_ title: String, width: Int = 0, alignRight: Bool = false) {
        self.title = title
        self.width = width
        self.alignRight = alignRight
    }
}

/// One row of a pane, with what actions need to know about it.
public struct PaneRow: Sendable, Hashable {
    /// Stable identity across refreshes, to keep the selection on the same item.
    public var id: String
    public var cells: [String]
    /// A style per cell; `.text` where not given.
    public var styles: [StyleToken]
    public var endpointID: String?
    public var eventID: String?
    public var deliveryID: String?
    /// A number per cell that orders the column better than its text (times, ages, rates,
    /// breaker states); nil where the text itself orders it.
    public var sortValues: [Double?] = []

    /// The text the filter matches against.
    public var searchText: String { cells.joined(separator: " ") }

    /// The cell's number, if it has one.
    func sortValue(_ column: Int) -> Double? {
        column < sortValues.count ? sortValues[column] : nil
    }
}

/// What a pane shows: its columns and rows.
public struct PaneContent: Sendable, Hashable {
    public var columns: [PaneColumn]
    public var rows: [PaneRow]
}

/// Builds each pane's rows from a snapshot, with the columns an operator reads in each pane.
public enum Panes {
    public static func content(_ pane: PaneID, snapshot: DashboardSnapshot?, now: Date) -> PaneContent {
        guard let snapshot else { return PaneContent(columns: columns(pane), rows: []) }
        let content: PaneContent
        let tenants: [String]
        switch pane {
        case .subscriptions:
            let ordered = troubleFirst(snapshot.endpoints)
            content = PaneContent(columns: columns(pane), rows: ordered.map { subscriptionRow($0) })
            tenants = ordered.map(\.endpoint.tenant)
        case .events:
            content = PaneContent(columns: columns(pane), rows: snapshot.events.map { eventRow($0) })
            tenants = snapshot.events.map(\.event.tenant)
        case .failed:
            content = PaneContent(columns: columns(pane), rows: snapshot.failed.map { failedRow($0, endpoints: snapshot.endpoints, now: now) })
            tenants = snapshot.failed.map(\.tenant)
        case .breakers:
            content = PaneContent(columns: columns(pane), rows: snapshot.endpoints.map { breakerRow($0, now: now) })
            tenants = snapshot.endpoints.map(\.endpoint.tenant)
        case .attempts:
            content = PaneContent(columns: columns(pane), rows: snapshot.attempts.map { attemptRow($0, endpoints: snapshot.endpoints) })
            tenants = snapshot.attempts.map(\.tenant)
        }
        // Several tenants and no scope: which customer a row is for matters at a glance.
        guard snapshot.tenantCount > 1, snapshot.tenant == nil else { return content }
        return withTenantColumn(content, tenants: tenants, at: tenantColumnIndex(pane))
    }

    /// Where the TENANT column goes: just before the endpoint or event it qualifies.
    static func tenantColumnIndex(_ pane: PaneID) -> Int {
        switch pane {
        case .subscriptions, .events, .failed, .attempts: return 1
        case .breakers: return 0
        }
    }

    static func withTenantColumn(_ content: PaneContent, tenants: [String], at index: Int) -> PaneContent {
        var columns = content.columns
        // As wide as the longest id shown, within 6 to 10 columns: the endpoint's name needs the room more.
        let width = min(10, max(6, tenants.map(DisplayWidth.of).max() ?? 0))
        columns.insert(PaneColumn("TENANT", width: width), at: index)
        let rows = zip(content.rows, tenants).map { row, tenant -> PaneRow in
            var row = row
            row.cells.insert(tenant, at: index)
            if !row.sortValues.isEmpty { row.sortValues.insert(nil, at: min(index, row.sortValues.count)) }
            if !row.styles.isEmpty { row.styles.insert(.muted, at: min(index, row.styles.count)) }
            return row
        }
        return PaneContent(columns: columns, rows: rows)
    }

    static func columns(_ pane: PaneID) -> [PaneColumn] {
        switch pane {
        case .subscriptions:
            return [PaneColumn("ON", width: 3), PaneColumn("ENDPOINT"), PaneColumn("EVENTS"), PaneColumn("OK 1H", width: 6, alignRight: true),
                    PaneColumn("P95", width: 7, alignRight: true), PaneColumn("BREAKER", width: 9)]
        case .events:
            return [PaneColumn("TIME", width: 8), PaneColumn("TYPE", width: 21), PaneColumn("ID"), PaneColumn("DLV", width: 3, alignRight: true)]
        case .failed:
            return [PaneColumn("AGE", width: 5, alignRight: true), PaneColumn("ENDPOINT"), PaneColumn("EVENT", width: 16),
                    PaneColumn("TRIES", width: 5, alignRight: true), PaneColumn("LAST ERROR")]
        case .breakers:
            return [PaneColumn("ENDPOINT"), PaneColumn("STATE", width: 9), PaneColumn("FAILS", width: 5, alignRight: true),
                    PaneColumn("OPENED", width: 8), PaneColumn("NEXT PROBE", width: 10)]
        case .attempts:
            return [PaneColumn("TIME", width: 8), PaneColumn("ENDPOINT"), PaneColumn("TYPE", width: 21), PaneColumn("#", width: 2, alignRight: true),
                    PaneColumn("STATUS"), PaneColumn("DURATION", width: 8, alignRight: true)]
        }
    }

    /// An endpoint as operators recognise it: its description, else host and path.
    public static func name(of endpoint: Endpoint) -> String {
        if !endpoint.description.isEmpty { return endpoint.description }
        guard let url = URLComponents(string: endpoint.url), let host = url.host else { return endpoint.url }
        return host + (url.port.map { ":\($0)" } ?? "") + url.path
    }

    static func breakerStyle(_ state: BreakerState) -> StyleToken {
        switch state {
        case .closed: return .breakerClosed
        case .halfOpen: return .breakerHalfOpen
        case .open: return .breakerOpen
        }
    }

    static func breakerLabel(_ state: BreakerState) -> String {
        switch state {
        case .closed: return "closed"
        case .halfOpen: return "half-open"
        case .open: return "OPEN"
        }
    }

    static func subscriptionRow(_ overview: EndpointOverview) -> PaneRow {
        let e = overview.endpoint
        let rate = overview.stats.successRate
        let rateStyle: StyleToken = rate.map { $0 >= 0.95 ? .ok : ($0 >= 0.5 ? .warn : .error) } ?? .muted
        return PaneRow(
            id: e.id,
            cells: [e.enabled ? "on" : "off", name(of: e), e.eventTypes.storedValue,
                    rate.map { percent($0) } ?? "-", overview.stats.p95LatencyMs.map { "\($0)ms" } ?? "-",
                    breakerLabel(overview.breaker.state)],
            styles: [e.enabled ? .ok : .warn, e.enabled ? .text : .muted, .muted, rateStyle, .text, breakerStyle(overview.breaker.state)],
            endpointID: e.id,
            sortValues: [e.enabled ? 1 : 0, nil, nil, rate, overview.stats.p95LatencyMs.map(Double.init), breakerRank(overview.breaker.state)])
    }

    static func eventRow(_ summary: EventSummary) -> PaneRow {
        PaneRow(
            id: summary.event.id,
            cells: [clock(summary.event.createdAt), summary.event.type, summary.event.id, String(summary.deliveries)],
            styles: [.muted, .text, .muted, .text],
            eventID: summary.event.id,
            sortValues: [summary.event.createdAt.timeIntervalSince1970, nil, nil, Double(summary.deliveries)])
    }

    static func failedRow(_ row: DeliveryRow, endpoints: [EndpointOverview], now: Date) -> PaneRow {
        let d = row.delivery
        let endpoint = endpoints.first { $0.endpoint.id == d.endpointID }?.endpoint
        let last = [d.lastStatusCode.map { "\($0)" }, d.lastError].compactMap { $0 }.joined(separator: " ")
        return PaneRow(
            id: d.id,
            cells: [age(since: d.updatedAt, now: now), endpoint.map(name(of:)) ?? d.endpointID, row.eventType, String(d.attempts), last],
            styles: [.muted, .text, .text, .text, .error],
            endpointID: d.endpointID, eventID: d.eventID, deliveryID: d.id,
            sortValues: [now.timeIntervalSince(d.updatedAt), nil, nil, Double(d.attempts), nil])
    }

    static func breakerRow(_ overview: EndpointOverview, now: Date) -> PaneRow {
        let b = overview.breaker
        var probe = "-"
        if let next = b.nextProbeAt, b.state != .closed {
            probe = next > now ? "in " + DurationText.format(next.timeIntervalSince(now)) : "due"
        }
        return PaneRow(
            id: overview.endpoint.id,
            cells: [name(of: overview.endpoint), breakerLabel(b.state), String(b.consecutiveFailures),
                    b.openedAt.map(clock) ?? "-", probe],
            styles: [.text, breakerStyle(b.state), b.consecutiveFailures > 0 ? .warn : .text, .muted, .text],
            endpointID: overview.endpoint.id,
            sortValues: [nil, breakerRank(b.state), Double(b.consecutiveFailures), b.openedAt?.timeIntervalSince1970,
                         b.state == .closed ? nil : b.nextProbeAt?.timeIntervalSince1970])
    }

    /// An attempt as the live view shows it: when, where, what, and how it went.
    static func attemptRow(_ row: AttemptRow, endpoints: [EndpointOverview]) -> PaneRow {
        let a = row.attempt
        let endpoint = endpoints.first { $0.endpoint.id == row.endpointID }?.endpoint
        var status = a.statusCode.map { String($0) } ?? (a.errorClass ?? "failed")
        if a.statusCode != nil, !a.succeeded, let errorClass = a.errorClass, errorClass != "http_status" { status += " " + errorClass }
        if a.trigger != .scheduled { status += " (\(a.trigger.rawValue))" }
        return PaneRow(
            id: "\(a.deliveryID)#\(a.number)",
            cells: [clock(a.startedAt), endpoint.map(name(of:)) ?? row.endpointID, row.eventType, String(a.number), status, "\(a.durationMs)ms"],
            styles: [.muted, .text, .text, .text, a.succeeded ? .ok : .error, a.durationMs >= 5000 ? .warn : .text],
            endpointID: row.endpointID, eventID: row.eventID, deliveryID: a.deliveryID,
            sortValues: [a.startedAt.timeIntervalSince1970, nil, nil, Double(a.number), a.statusCode.map(Double.init) ?? 1000, Double(a.durationMs)])
    }

    /// Open first, then half-open, then closed: the order of trouble.
    static func breakerRank(_ state: BreakerState) -> Double {
        switch state {
        case .open: return 0
        case .halfOpen: return 1
        case .closed: return 2
        }
    }

    /// Subscriptions as an operator wants them unsorted: open breakers, then half-open, then the
    /// lowest success rate in the last hour (none yet counts as healthy), then as the store gave them.
    static func troubleFirst(_ endpoints: [EndpointOverview]) -> [EndpointOverview] {
        endpoints.enumerated().sorted { a, b in
            let rankA = breakerRank(a.element.breaker.state), rankB = breakerRank(b.element.breaker.state)
            if rankA != rankB { return rankA < rankB }
            let rateA = a.element.stats.successRate ?? 2, rateB = b.element.stats.successRate ?? 2
            if rateA != rateB { return rateA < rateB }
            return a.offset < b.offset
        }.map(\.element)
    }

    static func percent(_ value: Double) -> String {
        value >= 0.9995 ? "100%" : String(format: "%.1f%%", value * 100)
    }

    /// `HH:MM:SS` in UTC.
    static func clock(_ date: Date) -> String {
        let text = Timestamp.iso8601(date)
        let start = text.index(text.startIndex, offsetBy: 11)
        return String(text[start..<text.index(start, offsetBy: 8)])
    }

    /// `42s`, `5m`, `3h`, `2d` since a time.
    static func age(since date: Date, now: Date) -> String {
        let seconds = max(0, now.timeIntervalSince(date))
        switch seconds {
        case ..<60: return "\(Int(seconds))s"
        case ..<3600: return "\(Int(seconds / 60))m"
        case ..<86_400: return "\(Int(seconds / 3600))h"
        default: return "\(Int(seconds / 86_400))d"
        }
    }
}
