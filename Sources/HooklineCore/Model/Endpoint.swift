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
    /// During a secret rotation, the secret that was replaced: it also signs until `previousSecretUntil`.
    public var previousSecret: String?
    public var previousSecretUntil: Date?
    /// The tenant whose events this endpoint receives.
    public var tenant: String
    /// Headers sent with every attempt, in this order, after Hookline's own.
    public var headers: [EndpointHeader]

    public init(
        id: String, url: String, description: String = "", secret: String, enabled: Bool = true,
        eventTypes: EventTypeSelection = .all, rateLimit: Double? = nil, disabledReason: String? = nil,
        disabledAt: Date? = nil, createdAt: Date, updatedAt: Date, previousSecret: String? = nil, previousSecretUntil: Date? = nil,
        tenant: String = Tenant.defaultID, headers: [EndpointHeader] = []
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
        self.previousSecret = previousSecret
        self.previousSecretUntil = previousSecretUntil
        self.tenant = tenant
        self.headers = headers
    }

    /// The secret as it may be displayed: its last four characters, the rest masked.
    public var maskedSecret: String { Secret.mask(secret) }

    /// The replaced secret while it still signs at `now`, or nil.
    public func previousSecret(at now: Date) -> String? {
        guard let previousSecret, let until = previousSecretUntil, until > now else { return nil }
        return previousSecret
    }

    /// The signer of an attempt starting at `now`: the secret, and the replaced one during a rotation.
    public func signer(at now: Date) -> WebhookSigner {
        WebhookSigner(secret: secret, previousSecret: previousSecret(at: now))
    }

    /// Every header of an attempt starting at `at`: Hookline's own, signed, then the endpoint's
    /// custom headers (whose names can never be one of Hookline's).
    public func requestHeaders(body: [UInt8], eventID: String, eventType: String, attempt: Int, at: Date) -> [(name: String, value: String)] {
        signer(at: at).headers(body: body, eventID: eventID, eventType: eventType, attempt: attempt, timestamp: Int64(at.timeIntervalSince1970))
            + headers.map { ($0.name, $0.value) }
    }
}
