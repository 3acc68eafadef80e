import ArgumentParser
import Foundation
import HooklineCore

struct StatsCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print the console header's figures: deliveries by status and endpoint, success rate, latency, open breakers, oldest pending.",
        discussion: """
            Delivery counts are the state now; attempts, success rates and p50/p95/p99 latencies count \
            from --since. Endpoints that never had a delivery are left out. --json prints every endpoint \
            with the keys README's "Stats for scripts" lists; the table shows the --limit most troubled.
            Example: hookline stats --tenant acme --since 15m --json
            """)

    @OptionGroup var tenant: TenantFilter
    @Option(help: ArgumentHelp("Count attempts from this long ago, such as 15m, 1h or 7d.", valueName: "duration"))
    var since = "1h"
    @Option(help: ArgumentHelp("Endpoints in the table at most (1 to 10000); --json lists all.", valueName: "n"))
    var limit = 20
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        guard (1...10_000).contains(limit) else { throw HooklineError.invalidInput("--limit must be between 1 and 10000, not \(limit).") }
        let scope = try tenant.scope()
        let window = try DurationOption.seconds(since, flag: "since")
        let operations = try await store.operations(creating: false)
        if let scope { _ = try await operations.tenant(id: scope) }
        let now = operations.clock.now()
        let stats = try await operations.store.stats(StatsQuery(tenant: scope, since: now.addingTimeInterval(-window)), now: now)
        if output.json {
            Output.json(JSONRendering.stats(stats))
            return
        }
        show(stats, window: window)
    }

    private func show(_ s: DeliveryStats, window: TimeInterval) {
        let counts = DeliveryStatus.allCases.map { "\($0.rawValue) \(s.deliveries[$0] ?? 0)" }.joined(separator: " · ")
        Output.line("Deliveries     \(counts) · total \(s.totalDeliveries)")
        Output.line("Last \(DurationText.format(window).padding(toLength: 9, withPad: " ", startingAt: 0)) \(Self.figures(s.attempts))")
        if s.breakers.isEmpty {
            Output.line("Breakers       all closed")
        } else {
            let shown = s.breakers.prefix(5).map { "\($0.endpointID) \($0.state.rawValue)" + ($0.openedAt.map { " since \(Output.time($0))" } ?? "") }
            let more = s.breakers.count > 5 ? " and \(s.breakers.count - 5) more" : ""
            Output.line("Breakers       \(s.breakers.count) not closed: \(shown.joined(separator: ", "))\(more)")
        }
        if let oldest = s.oldestPending {
            let age = DurationText.format(max(0, s.until.timeIntervalSince(oldest.createdAt)).rounded(.down))
            Output.line("Oldest pending \(oldest.deliveryID) for \(oldest.endpointID), waiting \(age)")
        } else {
            Output.line("Oldest pending none")
        }
        Output.line()
        let rows = s.endpoints.prefix(limit).map { line -> [String] in
            [
                line.endpointID, Output.clip(line.url, 40), line.breaker?.rawValue ?? "closed",
                String(line.deliveries[.pending] ?? 0), String(line.deliveries[.failed] ?? 0), String(line.deliveries[.held] ?? 0),
                String(line.attempts.attempts), line.attempts.successRate.map(Self.percent) ?? "-",
                line.attempts.latency.map { "\($0.p95) ms" } ?? "-",
            ]
        }
        Output.table(
            ["ENDPOINT", "URL", "BREAKER", "PENDING", "FAILED", "HELD", "ATTEMPTS", "SUCCESS", "P95"], Array(rows),
            empty: "No endpoint has a delivery yet.")
        if s.endpoints.count > limit {
            Output.line("\(s.endpoints.count - limit) more endpoints (raise --limit, or --json for all).")
        }
    }

    static func figures(_ f: AttemptFigures) -> String {
        guard let latency = f.latency, let rate = f.successRate else { return "attempts 0" }
        return "attempts \(f.attempts) · success \(percent(rate)) · p50 \(latency.p50) ms · p95 \(latency.p95) ms · p99 \(latency.p99) ms"
    }

    static func percent(_ rate: Double) -> String {
        String(format: "%.1f %%", rate * 100)
    }
}
