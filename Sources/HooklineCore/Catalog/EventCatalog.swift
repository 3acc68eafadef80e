/// The seven event types of the Churn Saver guide, with the fields their receivers rely on.
///
/// Required fields are those of the guide's example payloads that its handlers read (ids, status,
/// risk, the customer) and the detail object each type exists to carry.
public enum EventCatalog {
    /// Every type, in the guide's order.
    public static let all: [EventType] = [
        EventType(
            name: "case.created",
            summary: "A new recovery case was created automatically.",
            requiredFields: [
                .init(path: "case.id", kind: .string),
                .init(path: "case.user_id", kind: .string),
                .init(path: "case.status", kind: .string),
                .init(path: "case.risk_level", kind: .string),
                .init(path: "case.trigger_event.type", kind: .string),
                .init(path: "case.customer.id", kind: .string),
                .init(path: "case.customer.email", kind: .string),
            ],
            exampleData: #"{"case":\#(exampleCase)}"#),
        EventType(
            name: "case.updated",
            summary: "A case's status or details changed.",
            requiredFields: [
                .init(path: "case.id", kind: .string),
                .init(path: "case.status", kind: .string),
                .init(path: "changes", kind: .object),
            ],
            exampleData: #"{"case":\#(exampleCase),"changes":{"status":{"from":"active","to":"recovered"},"updated_by":"system","notes":"Customer responded positively to incentive"}}"#),
        EventType(
            name: "case.recovered",
            summary: "A customer was recovered.",
            requiredFields: [
                .init(path: "case.id", kind: .string),
                .init(path: "case.user_id", kind: .string),
                .init(path: "recovery_details.recovered_at", kind: .string),
                .init(path: "recovery_details.recovery_method", kind: .string),
                .init(path: "recovery_details.revenue_recovered", kind: .number),
            ],
            exampleData: #"{"case":\#(exampleCase),"recovery_details":{"recovered_at":"2025-10-25T15:30:00Z","recovery_method":"incentive_redemption","incentive_used":"inc_12345","time_to_recovery":300,"revenue_recovered":29.99}}"#),
        EventType(
            name: "case.lost",
            summary: "A recovery case was marked as permanently lost.",
            requiredFields: [
                .init(path: "case.id", kind: .string),
                .init(path: "loss_details.lost_at", kind: .string),
                .init(path: "loss_details.reason", kind: .string),
            ],
            exampleData: #"{"case":\#(exampleCase),"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive","final_attempt":"2025-10-24T18:00:00Z","total_attempts":5,"incentive_cost":15}}"#),
        EventType(
            name: "incentive.applied",
            summary: "An incentive was applied to a customer.",
            requiredFields: [
                .init(path: "incentive.id", kind: .string),
                .init(path: "incentive.case_id", kind: .string),
                .init(path: "incentive.type", kind: .string),
                .init(path: "incentive.applied_at", kind: .string),
                .init(path: "incentive.value_amount", kind: .number),
                .init(path: "incentive.customer.id", kind: .string),
            ],
            exampleData: #"{"incentive":\#(exampleIncentive)}"#),
        EventType(
            name: "incentive.expired",
            summary: "An incentive expired without being used.",
            requiredFields: [
                .init(path: "incentive.id", kind: .string),
                .init(path: "expiration_details.expired_at", kind: .string),
                .init(path: "expiration_details.reason", kind: .string),
            ],
            exampleData: #"{"incentive":\#(exampleIncentive),"expiration_details":{"expired_at":"2025-11-24T11:15:00Z","reason":"unused","days_active":30,"cost_impact":7.5}}"#),
        EventType(
            name: "customer.risk_changed",
            summary: "A customer's risk assessment changed.",
            requiredFields: [
                .init(path: "customer.id", kind: .string),
                .init(path: "risk_change.from", kind: .string),
                .init(path: "risk_change.to", kind: .string),
            ],
            exampleData: #"{"customer":{"id":"user_67890","email":"customer@example.com"},"risk_change":{"from":"medium","to":"high","trigger":"payment_failed","score":0.75,"factors":["recent_payment_failure","usage_decline","support_tickets_increased"]}}"#),
    ]

    /// The type with this name, or nil.
    public static func type(named name: String) -> EventType? {
        all.first { $0.name == name }
    }

    /// The type with this name, or an error that lists the known ones.
    @discardableResult
    public static func requireKnown(_ name: String) throws(HooklineError) -> EventType {
        guard let type = type(named: name) else {
            throw .invalidInput("Unknown event type '\(Identifier.printable(name))'; known types are \(all.map(\.name).joined(separator: ", ")).")
        }
        return type
    }

    static let exampleCase = #"{"id":"case_12345","user_id":"user_67890","status":"active","risk_level":"high","trigger_event":{"type":"payment_failed","timestamp":"2025-10-25T10:25:00Z","amount":29.99,"currency":"USD","reason":"insufficient_funds"},"recovery_strategy":{"priority":8,"channels":["email","sms"],"estimated_value":299.99},"customer":{"id":"user_67890","email":"customer@example.com","name":"John Doe","lifetime_value":1250,"plan":"Pro","signup_date":"2024-01-15T00:00:00Z"}}"#

    static let exampleIncentive = #"{"id":"inc_12345","case_id":"case_12345","type":"discount","config":{"discount_type":"percentage","value":25,"duration":"one_time","applicable_to":"next_billing"},"applied_at":"2025-10-25T11:15:00Z","expires_at":"2025-11-24T11:15:00Z","value_amount":7.5,"customer":{"id":"user_67890","email":"customer@example.com"}}"#
}
