import ArgumentParser
import Foundation
import HooklineCore

struct RedeliverCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeliver",
        abstract: "Send deliveries again now (a manual attempt), or every failed delivery of an endpoint.",
        discussion: """
            hookline redeliver dlv_… [dlv_…]
            hookline redeliver --endpoint ep_… --failed [--since 2025-10-25T00:00:00Z|24h] [--yes]
            The event id stays the same, so receivers can de-duplicate. A running `hookline serve` sends them.
            """)

    @Argument(help: ArgumentHelp("Delivery ids (dlv_…).", valueName: "delivery-ids")) var deliveryIDs: [String] = []
    @Option(help: ArgumentHelp("Redeliver this endpoint's failed deliveries.", valueName: "id")) var endpoint: String?
    @Flag(help: "With --endpoint: the failed deliveries (required, to be explicit).") var failed = false
    @Option(help: ArgumentHelp("With --endpoint: only deliveries that failed since a time or for a duration (24h).", valueName: "time"))
    var since: String?
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @Option(help: ArgumentHelp("Only this tenant's deliveries: any other is refused as unknown.", valueName: "tenant"))
    var tenant: String?
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func validate() throws {
        if endpoint == nil {
            guard !deliveryIDs.isEmpty else { throw ValidationError("Name delivery ids, or use --endpoint ID --failed.") }
            guard !failed, since == nil else { throw ValidationError("--failed and --since go with --endpoint.") }
        } else {
            guard deliveryIDs.isEmpty else { throw ValidationError("Give either delivery ids or --endpoint, not both.") }
            guard failed else { throw ValidationError("--endpoint needs --failed: only failed deliveries are redelivered in bulk.") }
        }
    }

    func execute() async throws {
        let operations = try await store.operations(creating: false)
        let result: RedeliveryResult
        if let endpoint {
            let sinceDate = try since.map { text throws(HooklineError) in try Self.parseSince(text) }
            if let tenant { try Tenant.validate(id: tenant) }
            let ids = try await operations.failedDeliveries(endpointID: endpoint, since: sinceDate, tenant: tenant)
            guard !ids.isEmpty else {
                if output.json { Output.json(JSONRendering.redelivery(RedeliveryResult(requeued: [], skipped: []))) } else {
                    Output.line("No failed deliveries for \(endpoint)\(since.map { " since \($0)" } ?? "").")
                }
                return
            }
            if !yes, try !Confirmation.confirm(
                "Redelivering \(ids.count) failed deliveries", question: "Redeliver \(ids.count) failed deliveries of \(endpoint)?") {
                Output.line("Nothing redelivered.")
                return
            }
            result = try await operations.recoverFailed(endpointID: endpoint, ids: ids)
        } else {
            if let tenant { try Tenant.validate(id: tenant) }
            result = try await operations.redeliver(deliveryIDs, tenant: tenant)
        }
        if output.json {
            Output.json(JSONRendering.redelivery(result))
            return
        }
        Output.line("Requeued \(result.requeued.count) \(result.requeued.count == 1 ? "delivery" : "deliveries") for a manual attempt.")
        for skip in result.skipped {
            Output.line("Skipped \(skip.id): \(skip.reason).")
        }
    }

    /// An ISO 8601 time, or a duration back from now (`24h`).
    static func parseSince(_ text: String) throws(HooklineError) -> Date {
        guard let date = Timestamp.since(text, now: Date()) else {
            throw .invalidInput("--since '\(text)' is neither a time like 2025-10-25T00:00:00Z nor a duration like 24h.")
        }
        return date
    }
}

struct BreakerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "breaker", abstract: "Show and reset circuit breakers.", subcommands: [List.self, Reset.self])

    struct List: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints' breakers in endpoint id order, a page at a time.")
        @OptionGroup var tenant: TenantFilter
        @OptionGroup var page: LimitOption
        @OptionGroup var cursor: AfterOption
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let overview = try await store.operations(creating: false).endpointOverview(
                after: cursor.after, limit: page.limit, tenant: try tenant.scope())
            if output.json {
                Output.json(.array(overview.map { JSONRendering.breaker($0.breaker) }))
                return
            }
            Output.table(
                ["ENDPOINT", "STATE", "FAILURES", "OPENED", "NEXT PROBE", "TRIPS", "URL"],
                overview.map {
                    [$0.endpoint.id, $0.breaker.state.rawValue, String($0.breaker.consecutiveFailures),
                     Output.time($0.breaker.openedAt), Output.time($0.breaker.nextProbeAt), String($0.breaker.trips),
                     $0.endpoint.url]
                },
                empty: cursor.after == nil ? "No endpoints yet." : "No endpoints after \(cursor.after ?? "").")
            AfterOption.nextPageHint(shown: overview.count, limit: page.limit, lastID: overview.last?.endpoint.id)
        }
    }

    struct Reset: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Close an endpoint's breaker; what it held back is due now.")
        @Argument(help: "Endpoint id (ep_…).") var endpointID: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let breaker = try await store.operations(creating: false).resetBreaker(endpointID: endpointID)
            if output.json {
                Output.json(JSONRendering.breaker(breaker))
            } else {
                Output.line("Breaker of \(endpointID) is closed.")
            }
        }
    }
}
