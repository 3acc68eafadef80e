import Foundation

/// A subscription: where to deliver which events, signed with which secret.
public struct Endpoint: Sendable, Hashable {
    /// `ep_` + ULID.
    public var id: String
    /// Absolute `http` or `https` URL that receives the POSTs.
    public var url: String
    /// Free text for operators.
    public var description: String
    /// The HMAC key; never shown in full unless asked for explicitly.
    public var secret: String
    /// Whether deliveries are made; a disabled endpoint's deliveries are `held`.
    public var enabled: Bool
    /// The event types this endpoint receives.
    public var eventTypes: EventTypeSelection
    /// Deliveries per second at most, or nil for no limit.
    public var rateLimit: Double?
    /// Why the endpoint was disabled (operator, 410 Gone, auto-disable), when it is.
    public var disabledReason: String?
    /// When the endpoint was disabled, when it is.
    public var disabledAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, url: String, description: String = "", secret: String, enabled: Bool = true,
        eventTypes: EventTypeSelection = .all, rateLimit: Double? = nil, disabledReason: String? = nil,
        disabledAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.url = url
        self.description = description
        self.secret = secret
        self.enabled = enabled
        self.eventTypes = eventTypes
        self.rateLimit = rateLimit
        self.disabledReason = disabledReason
        self.disabledAt = disabledAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The secret as it may be displayed: its last four characters, the rest masked.
    public var maskedSecret: String { Secret.mask(secret) }
}
