import Foundation

/// Who acted on the store: the CLI, the console, the dispatcher itself, the API's admin token, or
/// a tenant token (by its id).
public enum AuditActor: Sendable, Hashable, RawRepresentable {
    case cli
    case console
    case system
    /// The ingest and management API with the admin token.
    case api
    /// The management API with a tenant token: its id (`tok_…`).
    case token(String)

    public init?(rawValue: String) {
        switch rawValue {
        case "cli": self = .cli
        case "console": self = .console
        case "system": self = .system
        case "api": self = .api
        default:
            guard rawValue.hasPrefix(APIToken.idPrefix) else { return nil }
            self = .token(rawValue)
        }
    }

    /// The stored and shown form: the kind, or the token's id.
    public var rawValue: String {
        switch self {
        case .cli: "cli"
        case .console: "console"
        case .system: "system"
        case .api: "api"
        case .token(let id): id
        }
    }
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
