import Foundation
import Logging

/// Every action on Hookline's data, shared by the CLI, the console and the ingest API.
///
/// Each call checks its input, changes the store in one transaction and records who did it in the
/// audit table. Front ends only parse arguments and print results.
public struct Operations: Sendable {
    /// The largest envelope accepted, in bytes.
    public static let defaultMaximumPayloadBytes = 256 * 1024

    public let store: any HooklineStore
    public let clock: any HooklineClock
    /// Who is acting, recorded with every change.
    public internal(set) var actor: AuditActor
    public var maximumPayloadBytes: Int
    /// When set, single events are committed together with others arriving at the same time.
    public var groupCommit: GroupCommit?
    let logger: Logger

    /// - Parameter groupCommits: commit single events together with others arriving at the same
    ///   time (a ``GroupCommit`` over `store`), as the ingest API does.
    public init(
        store: any HooklineStore, clock: any HooklineClock = SystemClock(), actor: AuditActor,
        maximumPayloadBytes: Int = Operations.defaultMaximumPayloadBytes, groupCommits: Bool = false,
        logger: Logger = Logger(label: "hookline.operations")
    ) {
        self.store = store
        self.clock = clock
        self.actor = actor
        self.maximumPayloadBytes = maximumPayloadBytes
        self.groupCommit = groupCommits ? GroupCommit(store: store) : nil
        self.logger = logger
    }

    func audit(_ action: String, _ ids: [String], _ detail: String = "") -> AuditEntry {
        AuditEntry(at: clock.now(), actor: actor, action: action, targetIDs: ids, detail: detail)
    }

    // MARK: Endpoints

    /// Adds an endpoint of `tenant` (which must exist); the secret is generated when `secret` is nil.
    public func addEndpoint(
        url: String, eventTypes: EventTypeSelection = .all, secret: String? = nil, description: String = "",
        rateLimit: Double? = nil, tenant: String = Tenant.defaultID, headers: [EndpointHeader] = []
    ) async throws(HooklineError) -> Endpoint {
        let url = try EndpointSettings.validateURL(url)
        try EndpointSettings.validateDescription(description)
        try EndpointSettings.validateRateLimit(rateLimit)
        try EndpointHeader.validate(headers)
        if let secret { try Secret.validate(secret) }
        try await requireTenant(tenant)
        let now = clock.now()
        let endpoint = Endpoint(
            id: Identifier.endpoint(at: now), url: url, description: description,
            secret: secret ?? Secret.generate(), eventTypes: eventTypes, rateLimit: rateLimit,
            createdAt: now, updatedAt: now, tenant: tenant, headers: headers)
        try await store.createEndpoint(endpoint, audit: audit("endpoint.add", [endpoint.id], url))
        logger.info("endpoint added", metadata: ["endpoint.id": "\(endpoint.id)", "endpoint.url": "\(url)"])
        return endpoint
    }

    /// The endpoint with this id, or a not-found error.
    public func endpoint(id: String) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        guard let endpoint = try await store.endpoint(id: id) else { throw .notFound(kind: "endpoint", id: id) }
        return endpoint
    }

    /// Enables an endpoint; its held deliveries become due at once unless `releaseHeld` is false.
    public func enableEndpoint(id: String, releaseHeld: Bool = true) async throws(HooklineError) -> EndpointStateChange {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        let change = try await store.setEndpointEnabled(
            id: id, enabled: true, reason: nil, releaseHeld: releaseHeld, at: clock.now(),
            audit: audit("endpoint.enable", [id]))
        logger.info("endpoint enabled", metadata: ["endpoint.id": "\(id)", "deliveries.released": "\(change.movedDeliveries)"])
        return change
    }

    /// Disables an endpoint; its pending deliveries are held, not dropped.
    public func disableEndpoint(id: String, reason: String? = nil) async throws(HooklineError) -> EndpointStateChange {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        let reason = reason ?? "disabled by \(actor.rawValue)"
        let change = try await store.setEndpointEnabled(
            id: id, enabled: false, reason: reason, releaseHeld: false, at: clock.now(),
            audit: audit("endpoint.disable", [id], reason))
        logger.info("endpoint disabled", metadata: ["endpoint.id": "\(id)", "deliveries.held": "\(change.movedDeliveries)"])
        return change
    }

    /// The longest grace period of a secret rotation.
    public static let maximumRotationGrace: TimeInterval = 30 * 86_400

    /// Replaces an endpoint's secret (with `secret`, or a generated one). For `grace`, the replaced
    /// secret keeps signing beside the new one in `webhook-signature`, so that receivers can switch
    /// over without rejecting a delivery; `X-Webhook-Signature` uses the new secret at once.
    public func rotateSecret(id: String, secret: String? = nil, grace: TimeInterval = 86_400) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        if let secret { try Secret.validate(secret) }
        guard grace >= 0, grace <= Self.maximumRotationGrace else {
            throw .invalidInput("The grace period must be between 0s and 30d; the old secret signs beside the new one for that long.")
        }
        let now = clock.now()
        let newSecret = secret ?? Secret.generate()
        let endpoint = try await store.updateEndpoint(id: id, audit: audit("endpoint.rotate-secret", [id], "grace \(DurationText.format(grace))")) { endpoint throws(HooklineError) in
            guard newSecret != endpoint.secret else {
                throw .invalidInput("The new secret is the endpoint's current secret; give another one, or give none to have one generated.")
            }
            endpoint.previousSecret = grace > 0 ? endpoint.secret : nil
            endpoint.previousSecretUntil = grace > 0 ? now.addingTimeInterval(grace) : nil
            endpoint.secret = newSecret
        }
        logger.info("endpoint secret rotated", metadata: ["endpoint.id": "\(id)", "rotation.grace_seconds": "\(Int(grace))"])
        return endpoint
    }

    /// Adds event types to an endpoint's subscription.
    public func subscribe(id: String, types: [String]) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        let selection = try EventTypeSelection(types: types)
        return try await store.updateEndpoint(id: id, audit: audit("endpoint.subscribe", [id], types.joined(separator: ","))) { endpoint in
            switch selection {
            case .all: endpoint.eventTypes = .all
            case .only(let list): endpoint.eventTypes = endpoint.eventTypes.adding(list)
            }
        }
    }

    /// Removes event types from an endpoint's subscription; it must keep at least one.
    public func unsubscribe(id: String, types: [String]) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        let names = types.filter { $0 != "*" }
        for name in names { try EventCatalog.requireKnown(name) }
        if types.contains("*") {
            throw .invalidInput("Unsubscribing from '*' would leave the endpoint with no event types; disable or remove the endpoint instead.")
        }
        return try await store.updateEndpoint(id: id, audit: audit("endpoint.unsubscribe", [id], names.joined(separator: ","))) { endpoint throws(HooklineError) in
            let remaining = endpoint.eventTypes.removing(names)
            if remaining.list.isEmpty {
                throw .invalidInput("Unsubscribing from \(names.joined(separator: ", ")) would leave endpoint \(id) with no event types; disable or remove it instead.")
            }
            endpoint.eventTypes = remaining
        }
    }

    /// Replaces an endpoint's event types.
    public func setEventTypes(id: String, to selection: EventTypeSelection) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        if case .only(let list) = selection, list.isEmpty {
            throw .invalidInput("An endpoint needs at least one event type; disable it instead.")
        }
        return try await store.updateEndpoint(id: id, audit: audit("endpoint.events", [id], selection.storedValue)) { endpoint in
            endpoint.eventTypes = selection
        }
    }

    /// Replaces an endpoint's custom headers.
    public func setHeaders(id: String, to headers: [EndpointHeader]) async throws(HooklineError) -> Endpoint {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        try EndpointHeader.validate(headers)
        return try await store.updateEndpoint(id: id, audit: audit("endpoint.headers", [id], headers.map(\.name).joined(separator: ", "))) { endpoint in
            endpoint.headers = headers
        }
    }

    /// Removes an endpoint with its deliveries; refuses while work is left unless `force`.
    public func removeEndpoint(id: String, force: Bool = false) async throws(HooklineError) {
        try Identifier.validate(id, prefix: Identifier.endpointPrefix, kind: "endpoint")
        try await store.removeEndpoint(id: id, force: force, audit: audit("endpoint.remove", [id]))
        logger.info("endpoint removed", metadata: ["endpoint.id": "\(id)"])
    }

    // MARK: Events

    /// Accepts an event: checks it against the catalog, wraps `data` in the guide's envelope and
    /// stores it with one delivery per subscribed endpoint (`held` for disabled ones).
    ///
    /// An `id` that exists already returns the stored event and creates nothing. An
    /// `idempotencyKey` (the producer's own string, when `id` is nil) does the same for the
    /// tenant's event made under that key, and refuses a different event under the same key.
    ///
    /// - Parameter traceParent: the W3C `traceparent` of the span accepting it, kept with the event.
    public func emit(
        type: String, data: JSONValue, id: String? = nil, timestamp: Date? = nil, tenant: String = Tenant.defaultID,
        idempotencyKey: String? = nil, traceParent: String? = nil
    ) async throws(HooklineError) -> IngestResult {
        var id = id
        if let idempotencyKey {
            try IdempotencyKey.validate(idempotencyKey)
            id = id ?? IdempotencyKey.eventID(for: idempotencyKey, tenant: tenant)
        }
        var event = try prepare(type: type, data: data, id: id, timestamp: timestamp, tenant: tenant)
        event.traceParent = traceParent
        try await requireTenant(tenant)
        let result: IngestResult
        if let groupCommit {
            result = try await groupCommit.ingest(event)
        } else {
            result = try await store.ingest(event, audit: nil)
        }
        try Self.checkRepeat(result, of: event, keyed: idempotencyKey)
        logger.debug("event accepted", metadata: [
            "event.id": "\(event.id)", "event.type": "\(type)", "event.created": "\(result.wasCreated)",
            "event.deliveries": "\(result.summary.deliveries)",
        ])
        return result
    }

    /// Accepts several events in one transaction. Each item gets its own result: the stored
    /// outcome, or the error that refused it (refused items do not stop the others).
    public func emitBatch(_ items: [EmitRequest]) async throws(HooklineError) -> [Result<IngestResult, HooklineError>] {
        var results: [Result<IngestResult, HooklineError>?] = Array(repeating: nil, count: items.count)
        var events: [Event] = []
        var positions: [Int] = []
        // The tenants named are looked up in one read; an unknown one refuses its items only.
        let named = Set(items.map(\.tenant)).subtracting([Tenant.defaultID])
        var tenants: [String: Result<Void, HooklineError>] = [Tenant.defaultID: .success(())]
        let known = try await store.existingTenants(named.filter { (try? Tenant.validate(id: $0)) != nil }.sorted())
        for tenant in named {
            tenants[tenant] = known.contains(tenant) ? .success(()) : Result { () throws(HooklineError) in try unknownTenant(tenant) }
        }
        for (index, item) in items.enumerated() {
            do throws(HooklineError) {
                if let key = item.idempotencyKey { try IdempotencyKey.validate(key) }
                let id = item.id ?? item.idempotencyKey.map { IdempotencyKey.eventID(for: $0, tenant: item.tenant) }
                var event = try prepare(type: item.type, data: item.data, id: id, timestamp: item.timestamp, tenant: item.tenant)
                event.traceParent = item.traceParent
                try tenants[item.tenant]?.get()
                events.append(event)
                positions.append(index)
            } catch {
                results[index] = .failure(error)
            }
        }
        let stored = try await store.ingestBatch(events)
        for (position, (event, result)) in zip(positions, zip(events, stored)) {
            results[position] = Result { () throws(HooklineError) in
                try Self.checkRepeat(result, of: event, keyed: items[position].idempotencyKey)
                return result
            }
        }
        return results.map { $0! }
    }

    /// Refuses a repeat that is not one: an id taken by another tenant's event (which stays
    /// unseen), or an idempotency key already used for another type or data.
    static func checkRepeat(_ result: IngestResult, of event: Event, keyed key: String?) throws(HooklineError) {
        guard !result.wasCreated else { return }
        let stored = result.summary.event
        guard stored.tenant == event.tenant else {
            throw .conflict("The event id \(event.id) is taken; give the event another id.")
        }
        guard let key else { return }
        let same = (try? JSONValue.parse(stored.payload)).map { storedEnvelope in
            (try? JSONValue.parse(event.payload)).map { storedEnvelope["event"] == $0["event"] && storedEnvelope["data"] == $0["data"] } ?? false
        } ?? false
        guard same else {
            throw .conflict(
                "The Idempotency-Key '\(Identifier.printable(key))' was used for another event (type or data differ); send a new key for a new event.")
        }
    }

    /// Checks an event against the catalog and builds its canonical envelope, without storing it.
    public func prepare(type: String, data: JSONValue, id: String?, timestamp: Date?, tenant: String = Tenant.defaultID) throws(HooklineError) -> Event {
        try Tenant.validate(id: tenant)
        let eventType = try EventCatalog.requireKnown(type)
        try eventType.validate(data: data)
        let now = clock.now()
        let eventID: String
        if let id {
            try Identifier.validate(id, prefix: Identifier.eventPrefix, kind: "event")
            eventID = id
        } else {
            eventID = Identifier.event(at: now)
        }
        let envelope = JSONValue.object(JSONObject([
            ("event", .string(type)),
            ("id", .string(eventID)),
            ("timestamp", .string(Timestamp.iso8601(timestamp ?? now))),
            ("data", data),
        ]))
        let payload = envelope.canonicalBytes
        guard payload.count <= maximumPayloadBytes else {
            throw .invalidInput("The event is \(payload.count) bytes long; the limit is \(maximumPayloadBytes) bytes, so send less data.")
        }
        return Event(id: eventID, type: type, payload: payload, createdAt: now, tenant: tenant)
    }

    /// Parses `data` from JSON text, then emits it as ``emit(type:data:id:timestamp:)`` does.
    public func emit<Bytes: Collection>(
        type: String, dataJSON: Bytes, id: String? = nil, timestamp: Date? = nil, tenant: String = Tenant.defaultID
    ) async throws(HooklineError) -> IngestResult where Bytes.Element == UInt8 {
        guard dataJSON.count <= maximumPayloadBytes else {
            throw .invalidInput("The data is \(dataJSON.count) bytes long; the limit is \(maximumPayloadBytes) bytes, so send less data.")
        }
        let data = try JSONValue.parse(dataJSON, refusingUnsafeIntegers: true, root: "data")
        return try await emit(type: type, data: data, id: id, timestamp: timestamp, tenant: tenant)
    }

    /// The event with this id, or a not-found error.
    public func event(id: String) async throws(HooklineError) -> EventSummary {
        try Identifier.validate(id, prefix: Identifier.eventPrefix, kind: "event")
        guard let event = try await store.event(id: id) else { throw .notFound(kind: "event", id: id) }
        return event
    }

    /// The delivery with this id, or a not-found error.
    public func delivery(id: String) async throws(HooklineError) -> Delivery {
        try Identifier.validate(id, prefix: Identifier.deliveryPrefix, kind: "delivery")
        guard let delivery = try await store.delivery(id: id) else { throw .notFound(kind: "delivery", id: id) }
        return delivery
    }
}

/// One event to accept: what `emit` and the ingest API take.
public struct EmitRequest: Sendable {
    public var type: String
    public var data: JSONValue
    public var id: String?
    public var timestamp: Date?
    /// The tenant whose endpoints receive it.
    public var tenant: String
    /// The producer's `Idempotency-Key`, when it sent one instead of an id.
    public var idempotencyKey: String?
    /// The `traceparent` of the span accepting it (see ``Event/traceParent``).
    public var traceParent: String?

    public init(
        type: String, data: JSONValue, id: String? = nil, timestamp: Date? = nil, tenant: String = Tenant.defaultID,
        idempotencyKey: String? = nil, traceParent: String? = nil
    ) {
        self.type = type
        self.data = data
        self.id = id
        self.timestamp = timestamp
        self.tenant = tenant
        self.idempotencyKey = idempotencyKey
        self.traceParent = traceParent
    }
}
