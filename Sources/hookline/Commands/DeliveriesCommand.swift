import ArgumentParser
import Foundation
import HooklineCore

struct DeliveriesCommand: HooklineCommand {
    static let configuration = CommandConfiguration(commandName: "deliveries", abstract: "List deliveries, newest first.")

    @Option(help: ArgumentHelp("Only this status: pending, sending, succeeded, failed or held.", valueName: "status"))
    var status: String?
    @Option(help: ArgumentHelp("Only deliveries to this endpoint.", valueName: "id"))
    var endpoint: String?
    @Option(help: ArgumentHelp("Only deliveries of this event.", valueName: "id"))
    var event: String?
    @OptionGroup var tenant: TenantFilter
    @OptionGroup var limit: LimitOption
    @OptionGroup var cursor: AfterOption
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        var parsedStatus: DeliveryStatus?
        if let status {
            guard let value = DeliveryStatus(rawValue: status) else {
                throw HooklineError.invalidInput(
                    "'\(status)' is not a delivery status; use one of \(DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            parsedStatus = value
        }
        if let endpoint { try Identifier.validate(endpoint, prefix: Identifier.endpointPrefix, kind: "endpoint") }
        if let event { try Identifier.validate(event, prefix: Identifier.eventPrefix, kind: "event") }
        if let after = cursor.after { try Identifier.validate(after, prefix: Identifier.deliveryPrefix, kind: "delivery") }
        let scope = try tenant.scope()
        let operations = try await store.operations(creating: false)
        if let scope { _ = try await operations.tenant(id: scope) }
        let deliveries = try await operations.store.deliveryPage(
            DeliveryQuery(status: parsedStatus, endpointID: endpoint, eventID: event, tenant: scope, before: cursor.after, limit: limit.limit))
        if output.json {
            Output.json(.array(deliveries.map { JSONRendering.delivery($0, tenant: scope) }))
        } else {
            Self.printTable(deliveries)
            AfterOption.nextPageHint(shown: deliveries.count, limit: limit.limit, lastID: deliveries.last?.id)
        }
    }

    static func printTable(_ deliveries: [Delivery]) {
        Output.table(
            ["ID", "EVENT", "ENDPOINT", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST"],
            deliveries.map {
                [$0.id, $0.eventID, $0.endpointID, $0.status.rawValue, String($0.attempts), Output.time($0.nextAttemptAt),
                 Output.clip([$0.lastStatusCode.map(String.init), $0.lastError].compactMap { $0 }.joined(separator: " "), 50)]
            },
            empty: "No deliveries.")
    }
}

struct AttemptsCommand: HooklineCommand {
    static let configuration = CommandConfiguration(commandName: "attempts", abstract: "List the attempts of one delivery.")

    @Argument(help: "Delivery id (dlv_…).") var deliveryID: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        let operations = try await store.operations(creating: false)
        _ = try await operations.delivery(id: deliveryID)
        let attempts = try await operations.store.attempts(deliveryID: deliveryID)
        if output.json {
            Output.json(.array(attempts.map(JSONRendering.attempt)))
            return
        }
        Output.table(
            ["#", "TRIGGER", "STARTED", "DURATION", "STATUS", "ERROR"],
            attempts.map {
                [String($0.number), $0.trigger.rawValue, Output.time($0.startedAt), "\($0.durationMs) ms",
                 $0.statusCode.map(String.init) ?? "-",
                 Output.clip([$0.errorClass, $0.errorMessage].compactMap { $0 }.joined(separator: ": "), 70)]
            },
            empty: "No attempts yet for \(deliveryID).")
    }
}
