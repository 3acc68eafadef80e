import Foundation

/// Everything one console frame shows, read in a handful of indexed queries.
public struct DashboardSnapshot: Sendable, Hashable {
    public var takenAt: Date
    public var location: String
    /// The frame's window of endpoints (see ``EndpointWindow``): those that need an operator first.
    public var endpoints: [EndpointOverview]
    /// Endpoints in the store, shown or not.
    public var endpointTotal: Int
    public var events: [EventSummary]
    public var failed: [DeliveryRow]
    /// Attempts per minute over the last hour, oldest first.
    public var throughput: [ActivityBucket]
    /// Attempts per second over the last two minutes, oldest first (empty when not read).
    public var perSecond: [ActivityBucket]
    /// The newest attempts, newest first (empty when not read).
    public var attempts: [AttemptRow]
    public var counts: DeliveryCounts
    /// The database's size, or nil when unknown.
    public var storage: StorageSize?
    /// Tenants in the store: panes show a tenant column when there is more than one.
    public var tenantCount: Int
    /// The tenant the frame is scoped to, or nil for every tenant.
    public var tenant: String?
    /// Events, failed deliveries and attempts are from this time on, when set (`:since`).
    public var recentSince: Date?

    public init(
        takenAt: Date, location: String, endpoints: [EndpointOverview], endpointTotal: Int? = nil, events: [EventSummary], failed: [DeliveryRow],
        throughput: [ActivityBucket], perSecond: [ActivityBucket] = [], attempts: [AttemptRow] = [], counts: DeliveryCounts,
        storage: StorageSize? = nil, tenantCount: Int = 1, tenant: String? = nil, recentSince: Date? = nil
    ) {
        self.perSecond = perSecond
        self.attempts = attempts
        self.recentSince = recentSince
        self.tenantCount = tenantCount
        self.tenant = tenant
        self.takenAt = takenAt
        self.location = location
        self.endpoints = endpoints
        self.endpointTotal = endpointTotal ?? endpoints.count
        self.events = events
        self.failed = failed
        self.throughput = throughput
        self.counts = counts
        self.storage = storage
    }

    /// Endpoints whose breaker is not closed (the window holds every one of them).
    public var openBreakers: Int { endpoints.filter { $0.breaker.state != .closed }.count }
}

/// An event with its deliveries, for the detail view.
public struct EventDetail: Sendable, Hashable {
    public var summary: EventSummary
    public var deliveries: [Delivery]
}

/// A delivery with everything about it, for the detail view.
public struct DeliveryDetail: Sendable, Hashable {
    public var delivery: Delivery
    public var event: Event
    public var endpoint: Endpoint?
    public var attempts: [Attempt]
}

/// An endpoint with its breaker, health and recent attempts, for the detail view.
public struct EndpointDetail: Sendable, Hashable {
    public var overview: EndpointOverview
    public var recentAttempts: [Attempt]
    public var testSends: [TestSend]
    public var history: [AuditEntry]
}

extension Operations {
    /// One console frame's data: rows limited to what fits on screen, the window of endpoints the
    /// operator has scrolled to, the newest `attemptsLimit` attempts, and activity per minute over
    /// the last hour and per second over the last two minutes. `since` (the console's `:since`)
    /// limits events, failed deliveries and attempts to that stretch.
    public func dashboard(
        eventsLimit: Int, failedLimit: Int, attemptsLimit: Int = 0, since: Date? = nil, endpoints window: EndpointWindow = EndpointWindow()
    ) async throws(HooklineError) -> DashboardSnapshot {
        let now = clock.now()
        let frame = try await store.consoleFrame(ConsoleFrameQuery(
            eventsLimit: eventsLimit, failedLimit: failedLimit, attemptsLimit: attemptsLimit, statsSince: now.addingTimeInterval(-3600),
            secondsSince: now.addingTimeInterval(-120), recentSince: since, endpoints: window))
        let endpoints = EndpointOverview.combine(endpoints: frame.endpoints, breakers: frame.breakers, stats: frame.stats)
        return DashboardSnapshot(
            takenAt: now, location: store.location, endpoints: endpoints, endpointTotal: frame.endpointTotal, events: frame.events, failed: frame.failed,
            throughput: frame.throughput, perSecond: frame.perSecond, attempts: frame.attempts, counts: frame.counts, storage: frame.storage,
            tenantCount: frame.tenantCount, tenant: window.tenant, recentSince: since)
    }

    public func eventDetail(id: String) async throws(HooklineError) -> EventDetail {
        let summary = try await event(id: id)
        return EventDetail(summary: summary, deliveries: try await store.deliveries(DeliveryQuery(eventID: id, limit: 1000)))
    }

    public func deliveryDetail(id: String) async throws(HooklineError) -> DeliveryDetail {
        let delivery = try await self.delivery(id: id)
        guard let event = try await store.event(id: delivery.eventID) else {
            throw .notFound(kind: "event", id: delivery.eventID)
        }
        return DeliveryDetail(
            delivery: delivery, event: event.event, endpoint: try await store.endpoint(id: delivery.endpointID),
            attempts: try await store.attempts(deliveryID: id))
    }

    public func endpointDetail(id: String) async throws(HooklineError) -> EndpointDetail {
        let overview = try await endpointOverview(id: id)
        let history = try await store.auditEntries(limit: 200).filter { $0.targetIDs.contains(id) }
        return EndpointDetail(
            overview: overview, recentAttempts: try await store.recentAttempts(endpointID: id, limit: 20),
            testSends: try await store.testSends(endpointID: id, limit: 5), history: Array(history.prefix(20)))
    }
}
