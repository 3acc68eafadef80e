import ArgumentParser
import Foundation
import HooklineCore

struct EndpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoint",
        abstract: "Add, list, show, enable, disable, remove, subscribe and test endpoints; rotate their secrets.",
        subcommands: [Add.self, List.self, Show.self, Enable.self, Disable.self, Remove.self, Subscribe.self, Unsubscribe.self, RotateSecret.self, Test.self]
    )

    struct Add: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an endpoint; prints its id and, once, its secret.")

        @Argument(help: "Absolute http or https URL that receives the POSTs.")
        var url: String
        @Option(help: ArgumentHelp("Event types, comma-separated, or '*' for all.", valueName: "types"))
        var events = "*"
        @Option(help: ArgumentHelp("Signing secret, at least 24 characters (default: 32 random bytes in hex).", valueName: "secret"))
        var secret: String?
        @Option(help: "Free text for operators.")
        var description = ""
        @Option(name: .customLong("rate-limit"), help: ArgumentHelp("Deliveries per second at most.", valueName: "n"))
        var rateLimit: Double?
        @Option(name: .customLong("header"), help: ArgumentHelp(
            "A header sent with every attempt, as 'Name: value'; repeat for more (at most 20).", valueName: "header"))
        var headers: [String] = []
        @OptionGroup var tenant: TenantOption
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let selection = try EventTypeSelection(parsing: events)
            try EndpointSettings.validateRateLimit(rateLimit)
            let parsed = try headers.map { text throws(HooklineError) in try EndpointHeader.parse(text) }
            try EndpointHeader.validate(parsed)
            let tenant = try self.tenant.acting()
            let endpoint = try await store.operations(creating: true).addEndpoint(
                url: url, eventTypes: selection, secret: secret, description: description, rateLimit: rateLimit,
                tenant: tenant, headers: parsed)
            if output.json {
                Output.json(JSONRendering.endpoint(endpoint, revealSecret: true))
            } else {
                Output.line("Added endpoint \(endpoint.id) → \(endpoint.url)")
                if endpoint.tenant != Tenant.defaultID { Output.line("Tenant: \(endpoint.tenant)") }
                Output.line("Events: \(endpoint.eventTypes.storedValue)")
                Output.line("Secret: \(endpoint.secret)")
                Output.line("Keep the secret now: it is shown only here and by `endpoint show --reveal-secret`.")
            }
        }
    }

    struct List: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints in id order, a page at a time; one tenant's with --tenant.")
        @OptionGroup var page: LimitOption
        @OptionGroup var cursor: AfterOption
        @OptionGroup var tenant: TenantFilter
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let overview = try await store.operations(creating: false).endpointOverview(after: cursor.after, limit: page.limit, tenant: try tenant.scope())
            if output.json {
                Output.json(.array(overview.map { JSONRendering.overview($0, revealSecret: false) }))
                return
            }
            // A tenant column once the page holds endpoints of a tenant other than `default`.
            let showTenant = overview.contains { $0.endpoint.tenant != Tenant.defaultID }
            let rows: [[String]] = overview.map { item in
                let row: [String] = [
                    item.endpoint.id, item.endpoint.enabled ? "on" : "off", item.breaker.state.rawValue,
                    EndpointCommand.percent(item.stats), item.stats.p95LatencyMs.map { "\($0) ms" } ?? "-",
                    Output.clip(item.endpoint.eventTypes.storedValue, 40), item.endpoint.url,
                ]
                return showTenant ? [row[0], item.endpoint.tenant] + row.dropFirst() : row
            }
            let headers = ["ID", "STATE", "BREAKER", "SUCCESS 1H", "P95", "EVENTS", "URL"]
            Output.table(
                showTenant ? ["ID", "TENANT"] + headers.dropFirst() : headers,
                rows,
                empty: cursor.after == nil ? "No endpoints yet; add one with `hookline endpoint add URL`." : "No endpoints after \(cursor.after ?? "")."
            )
            AfterOption.nextPageHint(shown: overview.count, limit: page.limit, lastID: overview.last?.endpoint.id)
        }
    }

    struct Show: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Show one endpoint; the secret stays masked unless --reveal-secret.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Flag(name: .customLong("reveal-secret"), help: "Print the secret in full.") var revealSecret = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let operations = try await store.operations(creating: false)
            let overview = try await operations.endpointOverview(id: id)
            if output.json {
                Output.json(JSONRendering.overview(overview, revealSecret: revealSecret))
                return
            }
            EndpointCommand.printDetails(overview, revealSecret: revealSecret)
        }
    }

    struct Enable: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Enable an endpoint and release its held deliveries.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Flag(name: .customLong("keep-held"), help: "Leave held deliveries held; only new events are delivered.")
        var keepHeld = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let change = try await store.operations(creating: false).enableEndpoint(id: id, releaseHeld: !keepHeld)
            if output.json {
                Output.json(JSONRendering.endpoint(change.endpoint, revealSecret: false))
            } else {
                Output.line("Enabled \(id); released \(change.movedDeliveries) held deliveries.")
            }
        }
    }

    struct Disable: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an endpoint; its pending deliveries are held, not dropped.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Option(help: "Why, for the record.") var reason: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            if let reason { try EndpointSettings.validateDescription(reason) }
            let change = try await store.operations(creating: false).disableEndpoint(id: id, reason: reason)
            if output.json {
                Output.json(JSONRendering.endpoint(change.endpoint, revealSecret: false))
            } else {
                Output.line("Disabled \(id); held \(change.movedDeliveries) pending deliveries.")
            }
        }
    }

    struct RotateSecret: HooklineCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Replace an endpoint's secret; prints the new one, once.",
            discussion: """
                During the grace period both secrets sign the Standard Webhooks header `webhook-signature`
                (two space-separated signatures), so a receiver can switch to the new secret at its own pace;
                `X-Webhook-Signature` is signed with the new secret at once.
                """)
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Option(help: ArgumentHelp("How long the old secret keeps signing beside the new one: 0s to 30d.", valueName: "duration"))
        var grace = "24h"
        @Option(help: ArgumentHelp("The new secret, at least 24 characters (default: 32 random bytes in hex).", valueName: "secret"))
        var secret: String?
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let seconds = try DurationOption.seconds(grace, flag: "grace")
            let endpoint = try await store.operations(creating: false).rotateSecret(id: id, secret: secret, grace: seconds)
            if output.json {
                Output.json(JSONRendering.endpoint(endpoint, revealSecret: true))
            } else {
                Output.line("New secret of \(endpoint.id): \(endpoint.secret)")
                if let until = endpoint.previousSecretUntil {
                    Output.line("The old secret (\(Secret.mask(endpoint.previousSecret ?? ""))) also signs webhook-signature until \(Output.time(until)).")
                } else {
                    Output.line("The old secret no longer signs anything.")
                }
                Output.line("Keep the secret now: it is shown only here and by `endpoint show --reveal-secret`.")
            }
        }
    }

    struct Remove: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an endpoint with its deliveries; events stay.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Flag(help: "Remove it even though some of its deliveries have not succeeded.") var force = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            try await store.operations(creating: false).removeEndpoint(id: id, force: force)
            if output.json {
                Output.json(.object(JSONObject([("id", .string(id)), ("removed", .bool(true))])))
            } else {
                Output.line("Removed \(id).")
            }
        }
    }

    struct Subscribe: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Add event types to an endpoint.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Argument(help: "Event types from `hookline catalog`, or '*'.") var types: [String]
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func validate() throws { try EndpointCommand.requireTypes(types) }

        func execute() async throws {
            EndpointCommand.printEventTypes(try await store.operations(creating: false).subscribe(id: id, types: types), json: output.json)
        }
    }

    struct Unsubscribe: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Remove event types from an endpoint.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Argument(help: "Event types from `hookline catalog`.") var types: [String]
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func validate() throws { try EndpointCommand.requireTypes(types) }

        func execute() async throws {
            EndpointCommand.printEventTypes(try await store.operations(creating: false).unsubscribe(id: id, types: types), json: output.json)
        }
    }

    static func requireTypes(_ types: [String]) throws {
        guard !types.isEmpty else { throw ValidationError("Name at least one event type, for example case.created.") }
    }

    /// What `subscribe` and `unsubscribe` print: the endpoint, or the types it now receives.
    static func printEventTypes(_ endpoint: Endpoint, json: Bool) {
        if json {
            Output.json(JSONRendering.endpoint(endpoint, revealSecret: false))
        } else {
            Output.line("\(endpoint.id) now receives: \(endpoint.eventTypes.storedValue)")
        }
    }

    static func percent(_ stats: EndpointStats) -> String {
        guard let rate = stats.successRate else { return "-" }
        return String(format: "%.1f%% of %d", rate * 100, stats.attempts)
    }

    static func printDetails(_ overview: EndpointOverview, revealSecret: Bool) {
        let e = overview.endpoint
        let b = overview.breaker
        Output.line("Endpoint     \(e.id)")
        Output.line("Tenant       \(e.tenant)")
        Output.line("URL          \(e.url)")
        if !e.description.isEmpty { Output.line("Description  \(e.description)") }
        Output.line("State        \(e.enabled ? "enabled" : "disabled")")
        if let reason = e.disabledReason { Output.line("Disabled     \(Output.time(e.disabledAt)): \(reason)") }
        Output.line("Events       \(e.eventTypes.storedValue)")
        Output.line("Rate limit   \(e.rateLimit.map { "\($0) deliveries/s" } ?? "none")")
        Output.line("Secret       \(revealSecret ? e.secret : e.maskedSecret)")
        for (index, header) in e.headers.enumerated() {
            let label = index == 0 ? "Headers      " : "             "
            let value = revealSecret ? header.value : header.displayValue
            Output.line(label + header.name + ": " + value)
        }
        var breaker = b.state.rawValue
        if b.state != .closed { breaker += ", opened \(Output.time(b.openedAt)), next probe \(Output.time(b.nextProbeAt))" }
        if b.consecutiveFailures > 0 { breaker += ", \(b.consecutiveFailures) consecutive failures" }
        Output.line("Breaker      \(breaker)")
        Output.line("Last hour    \(percent(overview.stats)) attempts succeeded, p95 \(overview.stats.p95LatencyMs.map { "\($0) ms" } ?? "-")")
        Output.line("Created      \(Output.time(e.createdAt))")
        Output.line("Updated      \(Output.time(e.updatedAt))")
    }
}
