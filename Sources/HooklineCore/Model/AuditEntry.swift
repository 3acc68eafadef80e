import Foundation

/// Who acted on the store: the CLI, the console, or the dispatcher itself.
public enum AuditActor: String, Sendable, Hashable {
    case cli
    case console
    case system
    case api
}

/// One operator action, kept for the record.
public struct AuditEntry: Sendable, Hashable {
    public var at: Date
    public var actor: AuditActor
    /// A short verb phrase: `endpoint.add`, `endpoint.disable`, `delivery.redeliver`, …
    public var action: String
    /// The ids acted on.
    public var targetIDs: [String]
    /// Free text: the reason, the count, the filter used.
    public var detail: String

    public init(at: Date, actor: AuditActor, action: String, targetIDs: [String], detail: String = "") {
        self.at = at
        self.actor = actor
        self.action = action
        self.targetIDs = targetIDs
        self.detail = detail
    }
}
