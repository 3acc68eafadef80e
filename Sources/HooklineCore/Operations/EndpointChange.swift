import Foundation

/// A change to an endpoint's settings, each field nil when it stays as it is: what the management
/// API's `PATCH /v1/endpoints/{id}` sends. Every field is checked before anything is written, and
/// a refusal names the field (`url`, `events`, `description`, `rate_limit`, `headers`).
public struct EndpointChange: Sendable, Hashable {
    public var url: String?
    public var eventTypes: EventTypeSelection?
    public var description: String?
    /// `.some(nil)` removes the rate limit.
    public var rateLimit: Double??
    public var headers: [EndpointHeader]?

    public init(
        url: String? = nil, eventTypes: EventTypeSelection? = nil, description: String? = nil, rateLimit: Double?? = nil,
        headers: [EndpointHeader]? = nil
    ) {
        self.url = url
        self.eventTypes = eventTypes
        self.description = description
        self.rateLimit = rateLimit
        self.headers = headers
    }

    /// Whether the change changes nothing.
    public var isEmpty: Bool { url == nil && eventTypes == nil && description == nil && rateLimit == nil && headers == nil }

    /// Checks every field, naming the one that is wrong.
    public func validate() throws(HooklineError) {
        if let url { try HooklineError.naming("url") { () throws(HooklineError) in _ = try EndpointSettings.validateURL(url) } }
        if case .only(let list)? = eventTypes, list.isEmpty {
            throw .invalidField(field: "events", sentence: "An endpoint needs at least one event type; give [\"*\"] for all, or disable it instead.")
        }
        if let description { try HooklineError.naming("description") { () throws(HooklineError) in try EndpointSettings.validateDescription(description) } }
        if let rateLimit { try HooklineError.naming("rate_limit") { () throws(HooklineError) in try EndpointSettings.validateRateLimit(rateLimit) } }
        if let headers { try EndpointHeader.validate(headers) }
    }

    /// Applies the change to an endpoint's current row.
    public func apply(to endpoint: inout Endpoint, at now: Date) {
        if let url { endpoint.url = url }
        if let eventTypes { endpoint.eventTypes = eventTypes }
        if let description { endpoint.description = description }
        if let rateLimit { endpoint.rateLimit = rateLimit }
        if let headers { endpoint.headers = headers }
        endpoint.updatedAt = now
    }

    /// What changed, for the audit entry: the names of the fields given.
    var auditDetail: String {
        [url.map { _ in "url" }, eventTypes.map { _ in "events" }, description.map { _ in "description" },
         rateLimit.map { _ in "rate_limit" }, headers.map { _ in "headers" }].compactMap { $0 }.joined(separator: ", ")
    }
}

extension Operations {
    /// Changes several of an endpoint's settings in one transaction, with one audit entry.
    public func updateEndpoint(id: String, _ change: EndpointChange) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        try change.validate()
        let now = clock.now()
        let endpoint = try await store.updateEndpoint(id: id, audit: audit("endpoint.update", [id], change.auditDetail)) { endpoint in
            change.apply(to: &endpoint, at: now)
        }
        logger.info("endpoint updated", metadata: ["endpoint.id": "\(id)"])
        return endpoint
    }
}
