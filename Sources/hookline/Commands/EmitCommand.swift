import ArgumentParser
import Foundation
import HooklineCore

struct EmitCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "emit",
        abstract: "Accept an event and make one delivery per subscribed endpoint.",
        discussion: """
            The data is wrapped in the guide's envelope {"event","id","timestamp","data"} and stored as \
            canonical JSON. Repeating an --id returns the stored event and creates nothing. The event \
            goes only to the endpoints of its --tenant (default: the tenant 'default').
            Example: hookline emit case.created --data @case.json
            """)

    @Argument(help: "Event type from `hookline catalog`.")
    var type: String
    @Option(help: ArgumentHelp("The event's data object: inline JSON, @FILE, or - for standard input.", valueName: "json"))
    var data: String
    @Option(help: ArgumentHelp("The event id (evt_…), which is also the idempotency key.", valueName: "id"))
    var id: String?
    @OptionGroup var tenant: TenantOption
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        try EventCatalog.requireKnown(type)
        if let id { try Identifier.validate(id, prefix: Identifier.eventPrefix, kind: "event") }
        let tenant = try self.tenant.acting()
        let bytes = try InputSource.read(data, what: "--data")
        let result = try await store.operations(creating: true).emit(type: type, dataJSON: bytes, id: id, tenant: tenant)
        let summary = result.summary
        if output.json {
            Output.json(.object(JSONObject([
                ("id", .string(summary.event.id)),
                ("deliveries", .number(Double(summary.deliveries))),
                ("created", .bool(result.wasCreated)),
            ])))
        } else if result.wasCreated {
            Output.line("\(summary.event.id)  \(summary.deliveries) \(summary.deliveries == 1 ? "delivery" : "deliveries")")
        } else {
            Output.line("\(summary.event.id)  already accepted at \(Output.time(summary.event.createdAt)) with \(summary.deliveries) deliveries; nothing created")
        }
    }
}
