import Foundation

/// What ``Operations`` changes: tenants, endpoints, events, redelivery, breaker resets, test sends
/// and the audit log. Every mutation is one transaction and writes its ``AuditEntry`` in it.
public protocol OperationsStore: Sendable {
    // MARK: Tenants

    /// Adds a new tenant; a conflict when one with its id exists.
    func createTenant(_ tenant: Tenant, audit: AuditEntry) async throws(HooklineError)
    /// The tenant with this id, or nil.
    func tenant(id: String) async throws(HooklineError) -> Tenant?
    /// Which of these ids are tenants: one read for a batch naming many.
    func existingTenants(_ ids: [String]) async throws(HooklineError) -> Set<String>
    /// The tenants the query selects, in its order.
    func tenants(_ query: TenantQuery) async throws(HooklineError) -> [Tenant]
    /// Changes a tenant's name or metadata in one transaction; `change` runs on the current row.
    func updateTenant(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Tenant) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Tenant
    /// Removes a tenant and its events. With endpoints it needs `force` (they go with it), and it
    /// is refused while any of its deliveries is pending or sending. Returns the endpoints removed.
    func removeTenant(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError) -> Int

    // MARK: Tenant tokens

    /// Keeps a new token of an existing tenant by the digest of its value.
    func createToken(_ token: APIToken, digest: String, audit: AuditEntry) async throws(HooklineError)
    /// The token whose value has this digest, revoked or not, or nil.
    func token(digest: String) async throws(HooklineError) -> APIToken?
    /// A tenant's tokens, oldest first.
    func tokens(tenant: String) async throws(HooklineError) -> [APIToken]
    /// Revokes one of a tenant's tokens (not found when it is another tenant's); revoking twice
    /// keeps the first time.
    func revokeToken(id: String, tenant: String, at: Date, audit: AuditEntry) async throws(HooklineError) -> APIToken

    // MARK: Idempotency keys

    /// Takes an idempotency key of a scope (a tenant) for a request, or says who has it. A key
    /// taken by a request that never completed before `staleBefore` is taken over.
    func claimIdempotencyKey(scope: String, key: String, requestHash: String, at: Date, staleBefore: Date) async throws(HooklineError) -> IdempotencyClaim
    /// Records the resource a claimed key's request created.
    func completeIdempotencyKey(scope: String, key: String, resourceID: String) async throws(HooklineError)
    /// Gives back a claimed key whose request failed, so that it can be sent again.
    func releaseIdempotencyKey(scope: String, key: String) async throws(HooklineError)

    // MARK: Endpoints

    /// Adds a new endpoint.
    func createEndpoint(_ endpoint: Endpoint, audit: AuditEntry) async throws(HooklineError)
    /// The endpoint with this id, or nil.
    func endpoint(id: String) async throws(HooklineError) -> Endpoint?
    /// The endpoints the query selects, in id order (oldest first, or newest first when asked).
    func endpoints(_ query: EndpointQuery) async throws(HooklineError) -> [Endpoint]
    /// Changes an endpoint's settings (url, description, event types, rate limit, secrets) in one transaction.
    ///
    /// `change` runs inside the transaction on the current row; throwing from it changes nothing.
    func updateEndpoint(
        id: String, audit: AuditEntry, _ change: @escaping @Sendable (inout Endpoint) throws(HooklineError) -> Void
    ) async throws(HooklineError) -> Endpoint
    /// Enables or disables an endpoint and moves its deliveries between `pending` and `held`.
    ///
    /// Disabling holds every `pending` delivery. Enabling releases the `held` ones (due at once)
    /// unless `releaseHeld` is false.
    func setEndpointEnabled(
        id: String, enabled: Bool, reason: String?, releaseHeld: Bool, at: Date, audit: AuditEntry
    ) async throws(HooklineError) -> EndpointStateChange
    /// Deletes an endpoint with its deliveries and their attempts; events stay.
    ///
    /// Refuses while the endpoint has deliveries that are not `succeeded`, unless `force`.
    func removeEndpoint(id: String, force: Bool, audit: AuditEntry) async throws(HooklineError)

    // MARK: Events

    /// Stores an event and one delivery per subscribed endpoint, or returns the stored event when
    /// its id exists already (idempotency: nothing is created then).
    func ingest(_ event: Event, audit: AuditEntry?) async throws(HooklineError) -> IngestResult
    /// Ingests several events in one transaction, in order; each behaves as ``ingest(_:audit:)``.
    func ingestBatch(_ events: [Event]) async throws(HooklineError) -> [IngestResult]
    /// The event with this id, with its delivery count, or nil.
    func event(id: String) async throws(HooklineError) -> EventSummary?
    /// Events, newest first.
    func events(_ query: EventQuery) async throws(HooklineError) -> [EventSummary]

    // MARK: Breakers and redelivery

    /// Every stored breaker (endpoints that never failed may have none).
    func breakers() async throws(HooklineError) -> [CircuitBreaker]
    /// Closes an endpoint's breaker and makes the deliveries it was holding back due now.
    func resetBreaker(endpointID: String, at: Date, audit: AuditEntry) async throws(HooklineError) -> CircuitBreaker
    /// Makes deliveries due now for a `manual` attempt, whatever their state, except `sending` ones
    /// and those of a redacted event; with `onlyIfStatus`, only those still in that status.
    func redeliver(_ deliveryIDs: [String], onlyIfStatus: DeliveryStatus?, at: Date, audit: AuditEntry) async throws(HooklineError) -> RedeliveryResult
    /// The ids of an endpoint's `failed` deliveries last changed at or after `since`, oldest first.
    func failedDeliveryIDs(endpointID: String, since: Date?) async throws(HooklineError) -> [String]
    /// Attempts, successes and latency per endpoint since a time.
    func endpointStats(since: Date) async throws(HooklineError) -> [String: EndpointStats]

    // MARK: Erasure

    /// Redacts events as a ``RedactionPlan`` says, with its audit entry, in one transaction: the
    /// named events (`after` and `limit` unused), or up to `limit` of a tenant's events in creation
    /// order after `after` (the first step, `after` nil, also redacts its endpoints' test sends).
    /// Every response excerpt of the redacted events' attempts becomes the marker.
    func redact(_ scope: RedactionScope, after: PruneCursor?, limit: Int, at: Date, audit: AuditEntry) async throws(HooklineError) -> RedactionStep

    // MARK: Test sends and retention

    /// Keeps a test send with its endpoint, and its audit entry, in one transaction.
    func recordTestSend(_ send: TestSend, audit: AuditEntry) async throws(HooklineError)
    /// An endpoint's newest test sends.
    func testSends(endpointID: String, limit: Int) async throws(HooklineError) -> [TestSend]

    // MARK: Audit

    /// Records an action that changes nothing else in the store (a pruning pass).
    func recordAudit(_ entry: AuditEntry) async throws(HooklineError)

    /// The newest audit entries first.
    func auditEntries(limit: Int) async throws(HooklineError) -> [AuditEntry]
}

extension OperationsStore {
    /// Up to `limit` tenants in id order, after `after` when given.
    public func tenants(after: String?, limit: Int) async throws(HooklineError) -> [Tenant] {
        try await tenants(TenantQuery(order: .id(after: after), limit: limit))
    }

    /// Every endpoint, oldest first.
    public func endpoints() async throws(HooklineError) -> [Endpoint] {
        try await endpoints(EndpointQuery())
    }

    /// Up to `limit` endpoints in id order, after `after` when given (a page of a listing).
    public func endpoints(after: String?, limit: Int) async throws(HooklineError) -> [Endpoint] {
        try await endpoints(EndpointQuery(after: after, limit: limit))
    }
}
