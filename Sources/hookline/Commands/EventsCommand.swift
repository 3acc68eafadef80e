import ArgumentParser
import Foundation
import HooklineCore

/// `--limit`, shared by listings.
struct LimitOption: ParsableArguments {
    @Option(help: ArgumentHelp("How many rows at most (1 to 10000).", valueName: "n"))
    var limit = 50

    func validate() throws {
        guard (1...10_000).contains(limit) else {
            throw ValidationError("--limit must be between 1 and 10000, not \(limit).")
        }
    }
}

/// `--after`, the cursor of listings in id order: the last id of the previous page.
struct AfterOption: ParsableArguments {
    @Option(help: ArgumentHelp("Start after this id (the last id of the previous page).", valueName: "id"))
    var after: String?

    /// Says how to get the next page when this one is full (text output only: JSON stays an array).
    static func nextPageHint(shown: Int, limit: Int, lastID: String?) {
        guard shown == limit, let lastID else { return }
        Output.line("Showing \(shown); for the next page add --after \(lastID).")
    }
}

struct EventsCommand: HooklineCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "List events, newest first.")

    @Option(help: ArgumentHelp("Only events of this type.", valueName: "type"))
    var type: String?
    @OptionGroup var tenant: TenantFilter
    @OptionGroup var limit: LimitOption
    @OptionGroup var cursor: AfterOption
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        if let type { try EventCatalog.requireKnown(type) }
        let scope = try tenant.scope()
        let operations = try await store.operations(creating: false)
        // The page after an event: the events older than it (the order is time, then id).
        var before: PageKey?
        if let after = cursor.after {
            let summary = try await operations.event(id: after)
            before = PageKey(createdAt: summary.event.createdAt, id: summary.event.id)
        }
        let events = try await operations.store.events(EventQuery(type: type, tenant: scope, before: before, limit: limit.limit))
        if output.json {
            Output.json(.array(events.map(JSONRendering.event)))
            return
        }
        Output.table(
            ["ID", "TYPE", "CREATED", "DELIVERIES"],
            events.map { [$0.event.id, $0.event.type, Output.time($0.event.createdAt), String($0.deliveries)] },
            empty: cursor.after == nil ? "No events yet; emit one with `hookline emit TYPE --data JSON`." : "No events after \(cursor.after ?? "").")
        AfterOption.nextPageHint(shown: events.count, limit: limit.limit, lastID: events.last?.event.id)
    }
}

struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event", abstract: "Show one event, or erase events' payloads.", subcommands: [Show.self, Redact.self])

    struct Show: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Show an event's payload and its deliveries.")
        @Argument(help: "Event id (evt_…).") var id: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let operations = try await store.operations(creating: false)
            let summary = try await operations.event(id: id)
            let deliveries = try await operations.store.deliveries(DeliveryQuery(eventID: id, limit: 10_000))
            let payload = (try? JSONValue.parse(summary.event.payload)) ?? .string(String(decoding: summary.event.payload, as: UTF8.self))
            if output.json {
                guard case .object(var object) = JSONRendering.event(summary) else { return }
                object["payload"] = payload
                object["delivery_list"] = .array(deliveries.map { JSONRendering.delivery($0) })
                Output.json(.object(object))
                return
            }
            Output.line("Event    \(summary.event.id)")
            Output.line("Type     \(summary.event.type)")
            Output.line("Created  \(Output.time(summary.event.createdAt))")
            Output.line("Size     \(summary.event.payload.count) bytes")
            if let redactedAt = summary.event.redactedAt {
                Output.line("Redacted \(Output.time(redactedAt)): the data was erased and the event is never sent again")
            }
            Output.line()
            Output.line(payload.prettyString)
            Output.line()
            DeliveriesCommand.printTable(deliveries)
        }
    }

    struct Redact: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase events' payloads and their attempts' response excerpts; the history stays.",
            discussion: """
                Each event keeps its id, type, timestamp, deliveries and attempts (statuses, codes, times), so the \
                console, `stats` and the delivery history still add up; its data reads "[redacted]" and so does \
                every response excerpt of its attempts. Deliveries not made yet are cancelled (failed, never \
                sent), and a redacted event cannot be redelivered. Written to the audit log. It cannot be undone.
                Example: hookline event redact evt_01J… evt_01K… --yes
                """)
        @Argument(help: ArgumentHelp("Event ids (evt_…), at most 1000.", valueName: "event-ids")) var ids: [String]
        @Flag(help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let operations = try await store.operations(creating: false)
            // A mistyped id is said before the question, not after the answer.
            if ids.count <= Operations.maximumRedactedEventsPerCall {
                for id in ids { _ = try await operations.event(id: id) }
            }
            let events = "\(ids.count) \(ids.count == 1 ? "event" : "events")"
            if !yes, try !Confirmation.confirm("Redacting \(events)", question: "Erase the payloads of \(events)? This cannot be undone.") {
                Output.line("Nothing redacted.")
                return
            }
            let report = try await operations.redactEvents(ids)
            if output.json {
                Output.json(JSONRendering.redaction(report, tenant: nil))
                return
            }
            Output.line(RedactionSummary.sentence(report))
        }
    }
}
