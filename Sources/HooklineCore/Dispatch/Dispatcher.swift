import Foundation
import Logging
import Metrics
import Tracing

/// Delivers what the store has due: claims under a lease, gates each endpoint (breaker, then rate
/// limit, then a concurrency slot), signs and sends, and records each attempt.
///
/// Each endpoint has its own lane of claimed deliveries, so a slow or dead endpoint only ever fills
/// its own slots. Results are written in batches (one transaction each), so that durability costs
/// one commit per batch, not per attempt. Anything claimed but not finished when the process dies
/// is claimed again once its lease expires: delivery is at least once.
public actor Dispatcher {
    /// When `run` returns.
    public enum Mode: Sendable {
        /// Until ``stop()`` is called or the task is cancelled.
        case continuous
        /// When no delivery is `pending` or `sending` any more (or on ``stop()``).
        case drain
    }

    /// What the dispatcher holds for one endpoint while it has work for it: a lane exists from the
    /// claim that finds the endpoint's first delivery until its last attempt is recorded.
    struct Lane {
        var queue: [ClaimedDelivery] = []
        var inFlight = 0
        /// Attempts finished but not recorded yet (their results still name the endpoint).
        var unrecorded = 0
        /// Failed attempts finished but not recorded yet: the breaker has not seen them.
        var unrecordedFailures = 0
        var probeDeliveryID: String?
        var bucket: TokenBucket?
        var notBefore: Date?

        /// Whether forgetting the lane loses nothing: no work, and a rate limit's bucket full again.
        func isIdle(at now: Date) -> Bool {
            queue.isEmpty && inFlight == 0 && unrecorded == 0 && probeDeliveryID == nil
                && (notBefore.map { $0 <= now } ?? true) && (bucket?.isFull(at: now) ?? true)
        }
    }

    let store: any DispatchStore
    let transport: any HTTPTransport
    let clock: any HooklineClock
    let configuration: DispatcherConfiguration
    let logger: Logger
    /// Told about breaker changes, disables and permanent failures (the alerts).
    let notices: @Sendable (DispatchNotice) -> Void
    /// Identifies this dispatcher's leases.
    public let owner: String

    /// The endpoints the dispatcher holds work for (a lane's), as last read.
    var endpoints: [String: Endpoint] = [:]
    /// The breakers of the endpoints with lanes, and every breaker that is not closed.
    var breakers: [String: CircuitBreaker] = [:]
    var lanes: [String: Lane] = [:]
    /// Where the next claim's round-robin walk over the endpoints with due work resumes.
    var claimCursor: String?
    /// Lanes that may send now: new deliveries, a slot freed, a result recorded, a change read.
    var runnable = Set<String>()
    /// Lanes that wait for a time (a rate limit's token, a breaker, another dispatcher's probe).
    var waiting: [String: Date] = [:]
    /// Lanes with work that wait for a slot of the total budget: any finished request frees one.
    var blockedOnTotal = Set<String>()
    var totalInFlight = 0
    var pendingResults: [AttemptResult] = []
    var flushing = false
    var stopping = false
    var sleeper: CheckedContinuation<Void, Never>?
    var sleepToken = 0
    var wokenEarly = false
    var lastRefresh = Date.distantPast
    /// Whether the breakers were read once (changes are noticed from the second read on).
    var refreshed = false
    /// When endpoint changes were last looked for.
    var lastEndpointWatch: Date?
    /// Disabled endpoints already told about (until they are enabled again).
    var disabledNoticed = Set<String>()
    /// How far back each look for endpoint changes reaches beyond the previous one.
    static let watchMargin: TimeInterval = 5
    let startedAt: Date
    var lastRecovery = Date.distantPast
    var flushFailures = 0
    /// When the last recording batch was taken (real time: the window is about commits, not the clock of the rules).
    var lastBatchStart: ContinuousClock.Instant?
    var lastBatchSize = 0
    /// A lane with every slot busy has dropped under half its ready deliveries since the last batch was taken.
    var laneRunningLow = false
    var metrics = DispatchMetrics()
    /// Batch sizes and pipeline occupancy (read by benchmarks).
    public private(set) var statistics = DispatchStatistics()
    /// A claim transaction is running; its deliveries join the lanes when it commits.
    var claiming = false
    var claimFailure: HooklineError?
    var wokenWhileClaiming = false
    var timer: Task<Void, Never>?
    /// Until when nothing is sent because Hookline itself ran out of resources (descriptors,
    /// memory): the receivers are not at fault, and sending more would only fail the same way.
    var pausedUntil: Date?
    /// Local faults in a row: each one doubles the pause, up to ``maximumLocalPause``.
    var localFaultStreak = 0
    /// Deliveries whose attempt was not made (a local fault), to give back to the store.
    var returning: [String] = []
    var returningDeliveries = false
    /// The longest pause after local faults in a row.
    public static let maximumLocalPause: TimeInterval = 30
    /// Whether `run` is looping (for health checks).
    public private(set) var isRunning = false

    public init(
        store: any DispatchStore, transport: any HTTPTransport, clock: any HooklineClock = SystemClock(),
        configuration: DispatcherConfiguration = DispatcherConfiguration(), logger: Logger = Logger(label: "hookline.dispatcher"),
        notices: @escaping @Sendable (DispatchNotice) -> Void = { _ in }
    ) {
        self.store = store
        self.notices = notices
        self.transport = transport
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.owner = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(Identifier.ulid().suffix(6))"
        self.startedAt = clock.now()
    }

    /// Runs until stopped (or, in `.drain` mode, until nothing is left to deliver), then lets the
    /// requests in flight finish, records them and gives back what was claimed but not sent.
    public func run(_ mode: Mode = .continuous) async throws(HooklineError) {
        logger.info("dispatcher started", metadata: ["dispatcher.owner": "\(owner)"])
        isRunning = true
        defer { isRunning = false }
        while !stopping && !Task.isCancelled {
            let wakeAt = try await tick()
            if mode == .drain, try await isDrained() { break }
            await sleep(until: wakeAt)
        }
        try await shutDown()
    }

    /// Stops claiming; `run` returns once the requests in flight are recorded.
    public func stop() {
        stopping = true
        wake()
    }

    /// Whether the dispatcher waits only for time to pass: no request out, no claim or record
    /// under way, no lane ready to send. A test moving a manual clock moves it only then, so that
    /// no attempt is timed by a jump of the clock.
    public var isAtRest: Bool {
        totalInFlight == 0 && !claiming && !flushing && pendingResults.isEmpty && runnable.isEmpty && returning.isEmpty && !returningDeliveries
    }

    /// Tells the dispatcher that new work may be due (an event was just accepted in this process).
    public func wake() {
        if claiming { wokenWhileClaiming = true }
        if let sleeper {
            self.sleeper = nil
            timer?.cancel()
            timer = nil
            sleeper.resume()
        } else {
            wokenEarly = true
        }
    }

    // MARK: The loop

    /// One round: recover leases, refresh, claim, send. Returns when to look again.
    func tick() async throws(HooklineError) -> Date {
        // Debug builds (the tests) check that no lane has lost an update across an await.
        assert(lanes.values.reduce(0) { $0 + $1.inFlight } == totalInFlight, "lane in-flight counts drifted from the total")
        assert(lanes.values.allSatisfy { $0.unrecordedFailures >= 0 }, "a lane counts fewer unrecorded failures than none")
        var now = clock.now()
        if now.timeIntervalSince(lastRecovery) >= configuration.leaseRecoveryInterval {
            lastRecovery = now
            let recovered = try await store.recoverExpiredLeases(now: now)
            if recovered > 0 {
                logger.info("recovered deliveries whose lease expired", metadata: ["deliveries.count": "\(recovered)"])
            }
        }
        if now.timeIntervalSince(lastRefresh) >= configuration.refreshInterval {
            lastRefresh = now
            try await refresh(now: now)
        }
        if let failure = claimFailure {
            claimFailure = nil
            throw failure
        }
        var wakeAt = now.addingTimeInterval(configuration.pollInterval)
        if !stopping && !claiming && !flushing {
            // While busy, claiming is itself the check for due work (and a flush claims in its own
            // transaction); when idle, a read of the earliest due time avoids a write transaction
            // and tells how long to sleep.
            let idle = totalInFlight == 0 && lanes.values.allSatisfy { $0.queue.isEmpty }
            var due: Date? = now
            if idle {
                due = try await store.nextDueAt()
            }
            if let due, due <= now {
                startClaim(now: now)
            } else if let due {
                wakeAt = min(wakeAt, due)
            }
        }
        now = clock.now()
        // Only the lanes that may have something to do: a round costs what changed since the last
        // one, not the number of lanes (a thousand busy endpoints made every finish walk them all).
        for (endpointID, notBefore) in waiting where notBefore <= now {
            waiting[endpointID] = nil
            runnable.insert(endpointID)
        }
        if stopping { runnable.formUnion(lanes.keys) }
        let due = runnable
        runnable.removeAll()
        for endpointID in due {
            if let notBefore = try await pump(endpointID, now: now) {
                waiting[endpointID] = min(waiting[endpointID] ?? notBefore, notBefore)
            }
        }
        if let soonest = waiting.values.min() { wakeAt = min(wakeAt, soonest) }
        return wakeAt
    }

    /// Drops what is kept for endpoints without work, so that the dispatcher's memory and each
    /// round's cost grow with the work in hand, not with the number of endpoints.
    func forgetIdleLanes(now: Date) {
        // Not while a claim is out: its deliveries join lanes whose endpoints it found known, and
        // a lane forgotten meanwhile would take its endpoint with it (the deliveries would look
        // orphaned and wait for their lease).
        guard !claiming else { return }
        for (endpointID, lane) in lanes where lane.isIdle(at: now) && !runnable.contains(endpointID) {
            lanes[endpointID] = nil
            waiting[endpointID] = nil
            blockedOnTotal.remove(endpointID)
            endpoints[endpointID] = nil
            if breakers[endpointID]?.state == .closed { breakers[endpointID] = nil }
        }
    }

    /// Re-reads what changes elsewhere (the CLI, the console, other dispatchers): the endpoints the
    /// dispatcher holds work for, their breakers, and every breaker that is not closed. Each read
    /// is as large as the work in hand, not as the list of endpoints.
    func refresh(now: Date) async throws(HooklineError) {
        forgetIdleLanes(now: now)
        let held = lanes.keys.sorted()
        let current = try await store.endpoints(ids: held)
        let found = Set(current.map(\.id))
        for endpointID in held where !found.contains(endpointID) {
            // Removed meanwhile: its deliveries are gone with it (pump drops the lane's queue).
            endpoints[endpointID] = nil
        }
        for endpoint in current { remember(endpoint, now: now) }
        // What was read may let a lane send (enabled again) or make it stop (disabled, removed).
        runnable.formUnion(held)
        // Changes since the last look, with a margin for the clocks of other processes and for
        // transactions that committed late: what was seen twice is told once.
        let changed = try await store.endpoints(updatedSince: (lastEndpointWatch ?? now).addingTimeInterval(-Self.watchMargin))
        lastEndpointWatch = now
        for endpoint in changed {
            if endpoint.enabled {
                disabledNoticed.remove(endpoint.id)
            } else if !disabledNoticed.contains(endpoint.id), (endpoint.disabledAt ?? endpoint.updatedAt) >= startedAt {
                // Disabled by someone else: an operator, or another dispatcher on the same store.
                disabledNoticed.insert(endpoint.id)
                notices(.endpointDisabled(endpoint: EndpointRef(endpoint), reason: endpoint.disabledReason ?? "disabled"))
            }
        }
        let watched = Set(held).union(breakers.keys)
        let stored = try await store.breakers(endpointIDs: Array(watched), orNotClosed: true)
        // A change to tell about on an endpoint the dispatcher holds nothing for: read it for the notice.
        let unknown = stored.filter { ($0.state != (breakers[$0.endpointID]?.state ?? .closed)) && endpoints[$0.endpointID] == nil }
        let named = refreshed && !unknown.isEmpty ? try await store.endpoints(ids: unknown.map(\.endpointID)) : []
        let references = Dictionary(uniqueKeysWithValues: named.map { ($0.id, EndpointRef($0)) })
        for breaker in stored { observe(breaker, endpoint: references[breaker.endpointID]) }
        // Breakers that are gone (their endpoint was removed) are forgotten.
        let present = Set(stored.map(\.endpointID))
        for endpointID in watched where !present.contains(endpointID) && lanes[endpointID] == nil {
            breakers[endpointID] = nil
        }
        refreshed = true
    }

    /// Takes a breaker as the store has it (from a refresh or a claim), telling about a change that
    /// another process made. A probe in flight keeps its local half-open state until its result is
    /// recorded.
    func observe(_ stored: CircuitBreaker, endpoint reference: EndpointRef? = nil) {
        guard lanes[stored.endpointID]?.probeDeliveryID == nil else { return }
        if refreshed {
            let known = breakers[stored.endpointID] ?? CircuitBreaker(endpointID: stored.endpointID)
            let endpoint = endpoints[stored.endpointID].map(EndpointRef.init) ?? reference ?? EndpointRef(id: stored.endpointID, url: "")
            noticeChange(from: known, to: stored, endpoint: endpoint)
        }
        breakers[stored.endpointID] = stored
    }

    /// Keeps an endpoint the dispatcher has work for, with its lane's rate-limit bucket.
    func remember(_ endpoint: Endpoint, now: Date) {
        endpoints[endpoint.id] = endpoint
        guard var lane = lanes[endpoint.id] else { return }
        if let rate = endpoint.rateLimit {
            if lane.bucket?.rate != rate { lane.bucket = TokenBucket(rate: rate, now: now) }
        } else {
            lane.bucket = nil
        }
        lanes[endpoint.id] = lane
    }

    /// Reports a breaker change made by another process: a reset (which forgets the breaker's
    /// window, where a successful probe counts itself in it), or another dispatcher's records.
    /// A reset may already have failures recorded after it by the time it is seen, never a
    /// success: a closed window without a success is an operator's doing.
    func noticeChange(from known: CircuitBreaker, to stored: CircuitBreaker, endpoint: EndpointRef) {
        if stored.state == .closed && known.state != .closed {
            notices(.breakerClosed(endpoint: endpoint, byOperator: stored.windowFailures == stored.windowAttempts))
        } else if stored.state == .open && known.state == .closed {
            notices(.breakerOpened(
                endpoint: endpoint, reopened: false, consecutiveFailures: stored.consecutiveFailures,
                nextProbeAt: stored.nextProbeAt, lastError: nil))
        }
    }

    /// Claims in the background, so that lanes keep sending while the claim's transaction commits.
    func startClaim(now: Date) {
        guard let plan = claimPlan(now: now) else { return }
        claiming = true
        Task {
            await self.claim(plan, now: now)
        }
    }

    /// What the next claim may take: the budget left (twice the total concurrency, in flight and
    /// ready together), two rounds of slots for endpoints the dispatcher holds no work for (so that
    /// with a thousand busy endpoints the budget is spread over many lanes, not spent on the ready
    /// queues of a few), and for the others what their lanes have room for (refilled when a
    /// quarter empty, so that claims are few and large but a busy lane never runs dry, and not
    /// while the breaker holds them back). The store walks the endpoints with due work from where
    /// the last claim stopped.
    func claimPlan(now: Date) -> ClaimPlan? {
        let budget = 2 * configuration.totalConcurrency - totalInFlight - lanes.values.reduce(0) { $0 + $1.queue.count }
        guard budget > 0 else { return nil }
        let capacity = configuration.concurrencyPerEndpoint + configuration.readyPerEndpoint
        let firstClaim = min(capacity, 2 * configuration.concurrencyPerEndpoint)
        var rooms: [String: Int] = [:]
        for (endpointID, lane) in lanes {
            var room = capacity - lane.inFlight - lane.queue.count
            if room < max(1, capacity / 4) { room = 0 }
            switch breakers[endpointID]?.decision(now: now, probeInFlight: lane.probeDeliveryID != nil) ?? .send {
            case .send: break
            case .probe: room = min(room, lane.inFlight == 0 && lane.queue.isEmpty ? 1 : 0)
            case .wait: room = 0
            }
            rooms[endpointID] = room
        }
        return ClaimPlan(budget: budget, capacity: firstClaim, rooms: rooms, after: claimCursor, probeTakeOver: configuration.lease)
    }

    func claim(_ plan: ClaimPlan, now: Date) async {
        wokenWhileClaiming = false
        var found = true
        do {
            let claimed = try await store.claim(plan, now: now, leaseUntil: now.addingTimeInterval(configuration.lease), owner: owner)
            try await enqueue(claimed, claimedAt: now)
            found = !claimed.deliveries.isEmpty
        } catch {
            claimFailure = error
        }
        claiming = false
        // An empty claim wakes nobody (the loop looks again at its next poll, instead of claiming
        // in a circle while a due delivery waits behind an open breaker), unless new work was
        // announced while it ran: that work may not have been committed when the claim looked.
        if found || wokenWhileClaiming { wake() }
    }

    /// Puts claimed deliveries in their lanes, reading the endpoints the dispatcher held no work
    /// for until now (one read per claim, of only those).
    func enqueue(_ claimed: ClaimedBatch, claimedAt now: Date) async throws(HooklineError) {
        claimCursor = claimed.cursor
        guard !claimed.deliveries.isEmpty else { return }
        let unknown = Set(claimed.deliveries.map(\.endpointID)).filter { endpoints[$0] == nil }
        let fetched = unknown.isEmpty ? [] : try await store.endpoints(ids: unknown.sorted())
        for delivery in claimed.deliveries {
            if lanes[delivery.endpointID] == nil { lanes[delivery.endpointID] = Lane() }
            lanes[delivery.endpointID]?.queue.append(delivery)
            runnable.insert(delivery.endpointID)
            if let due = delivery.dueAt { metrics.claimLag(seconds: now.timeIntervalSince(due)) }
        }
        for endpoint in fetched { remember(endpoint, now: now) }
        for breaker in claimed.breakers.values { observe(breaker) }
    }

    /// Sends what the lane may send now; returns when it should be looked at again, if it waits.
    ///
    /// The lane is read and changed in place, never copied across an `await`: while this waits for
    /// the store, `finish` and the claims change the same lane, and a copy written back would undo
    /// them (a lane that believes requests are still in flight never sends again).
    func pump(_ endpointID: String, now: Date) async throws(HooklineError) -> Date? {
        guard let queued = lanes[endpointID]?.queue, !queued.isEmpty else { return nil }
        guard let endpoint = endpoints[endpointID] else {
            // Removed meanwhile: its deliveries are gone with it.
            lanes[endpointID]?.queue.removeAll()
            return nil
        }
        if stopping {
            lanes[endpointID]?.queue.removeAll()
            try await store.release(queued.map(\.id), nextAttemptAt: now, owner: owner)
            return nil
        }
        if !endpoint.enabled {
            lanes[endpointID]?.queue.removeAll { !$0.manual }
            try await store.release(queued.filter { !$0.manual }.map(\.id), nextAttemptAt: now, owner: owner)
        }
        if let pausedUntil, pausedUntil > now { return pausedUntil }
        if let notBefore = lanes[endpointID]?.notBefore, notBefore > now { return notBefore }
        lanes[endpointID]?.notBefore = nil
        while let lane = lanes[endpointID], !lane.queue.isEmpty, lane.inFlight < configuration.concurrencyPerEndpoint,
              totalInFlight < configuration.totalConcurrency {
            var breaker = breakers[endpointID] ?? CircuitBreaker(endpointID: endpointID)
            switch breaker.decision(now: now, probeInFlight: lane.probeDeliveryID != nil) {
            case .wait(let until):
                // No request and no attempt while the breaker is open: give the claims back.
                if lane.inFlight == 0 || breaker.state == .open {
                    lanes[endpointID]?.queue.removeAll()
                    try await store.release(lane.queue.map(\.id), nextAttemptAt: until, owner: owner)
                }
                return until
            case .probe:
                guard lane.inFlight == 0 else { return nil }
                guard let probe = lanes[endpointID]?.queue.removeFirst() else { return nil }
                lanes[endpointID]?.probeDeliveryID = probe.id
                breaker.beginProbe(at: now)
                breakers[endpointID] = breaker
                guard try await store.markProbe(endpointID: endpointID, at: now, takeOverAfter: configuration.lease) else {
                    // Another dispatcher on the same store probes this endpoint: wait for its result.
                    lanes[endpointID]?.probeDeliveryID = nil
                    let until = now.addingTimeInterval(1)
                    lanes[endpointID]?.notBefore = until
                    try await store.release([probe.id], nextAttemptAt: until, owner: owner)
                    return until
                }
                logger.info("breaker half-open: sending one probe", metadata: ["endpoint.id": "\(endpointID)", "delivery.id": "\(probe.id)"])
                start(probe, endpoint: endpoint)
                return nil
            case .send:
                // Failures waiting to be recorded may be about to open the breaker: no new request
                // until they are recorded (the flush wakes the loop).
                if lane.unrecordedFailures > 0,
                   breaker.consecutiveFailures + lane.unrecordedFailures >= configuration.planner.breaker.consecutiveFailures {
                    return nil
                }
                if var bucket = lane.bucket {
                    let wait = bucket.take(now: now)
                    lanes[endpointID]?.bucket = bucket
                    if let wait {
                        let notBefore = now.addingTimeInterval(wait)
                        lanes[endpointID]?.notBefore = notBefore
                        return notBefore
                    }
                }
                guard let next = lanes[endpointID]?.queue.removeFirst() else { return nil }
                start(next, endpoint: endpoint)
            }
        }
        if let lane = lanes[endpointID], !lane.queue.isEmpty, lane.inFlight < configuration.concurrencyPerEndpoint,
           totalInFlight >= configuration.totalConcurrency {
            blockedOnTotal.insert(endpointID)
        }
        return nil
    }

    func start(_ delivery: ClaimedDelivery, endpoint: Endpoint) {
        statistics.inFlightChanges(from: totalInFlight)
        lanes[delivery.endpointID, default: Lane()].inFlight += 1
        totalInFlight += 1
        // A lane with every slot busy and its ready deliveries half gone needs the next claim soon;
        // a quiet endpoint's single delivery does not (it would end every window early).
        if let lane = lanes[delivery.endpointID], lane.inFlight >= configuration.concurrencyPerEndpoint,
           lane.queue.count < configuration.readyPerEndpoint / 2 {
            laneRunningLow = true
        }
        let startedAt = clock.now()
        let headers = endpoint.requestHeaders(
            body: delivery.payload, eventID: delivery.eventID, eventType: delivery.eventType, attempt: delivery.attempts + 1, at: startedAt)
        var request = OutboundRequest(url: endpoint.url, headers: headers, body: delivery.payload, timeout: configuration.requestTimeout)
        let transport = self.transport
        let span = configuration.tracing?.start(delivery, endpoint: endpoint, request: &request)
        Task { [request] in
            let outcome = await transport.send(request)
            self.finish(delivery, outcome: outcome, startedAt: startedAt, span: span)
        }
    }

    /// Takes an attempt's outcome: its span ends with the attempt as it is recorded (the same error
    /// class), and the result waits for the next recording batch.
    func finish(_ delivery: ClaimedDelivery, outcome: TransportOutcome, startedAt: Date, span: (any Span)? = nil) {
        statistics.inFlightChanges(from: totalInFlight)
        lanes[delivery.endpointID]?.inFlight -= 1
        totalInFlight -= 1
        runnable.insert(delivery.endpointID)
        if !blockedOnTotal.isEmpty {
            runnable.formUnion(blockedOnTotal)
            blockedOnTotal.removeAll()
        }
        let result = AttemptClassifier.result(for: delivery, outcome: outcome, startedAt: startedAt, finishedAt: clock.now())
        if let span { configuration.tracing?.end(span, attempt: result.attempt) }
        if outcome.errorClass == .local {
            putBack(delivery, outcome: outcome)
            return
        }
        localFaultStreak = 0
        let statusClass = outcome.statusCode.map { "\($0 / 100)xx" } ?? (outcome.errorClass?.rawValue ?? "error")
        metrics.attempt(endpointID: delivery.endpointID, statusClass: statusClass, durationMs: outcome.durationMs)
        if !result.attempt.succeeded || logger.logLevel <= .debug {
            // Built only when it will be written: this runs once per attempt.
            var metadata: Logger.Metadata = [
                "delivery.id": "\(delivery.id)", "endpoint.id": "\(delivery.endpointID)", "event.id": "\(delivery.eventID)",
                "attempt.number": "\(result.attempt.number)", "attempt.duration_ms": "\(outcome.durationMs)",
            ]
            if let code = outcome.statusCode { metadata["attempt.status"] = "\(code)" }
            if result.attempt.succeeded {
                logger.debug("attempt succeeded", metadata: metadata)
            } else {
                metadata["attempt.error"] = "\(result.attempt.errorMessage ?? result.attempt.errorClass ?? "failed")"
                logger.info("attempt failed", metadata: metadata)
            }
        }
        lanes[delivery.endpointID]?.unrecorded += 1
        if !result.attempt.succeeded { lanes[delivery.endpointID]?.unrecordedFailures += 1 }
        pendingResults.append(result)
        if !flushing {
            flushing = true
            Task { await self.flush() }
        }
        noteDryLane(delivery.endpointID)
        sendNextAtOnce(delivery.endpointID)
        wake()
    }

    /// Sends the lane's next delivery in the slot just freed, when nothing else holds it back: the
    /// common case of a busy endpoint, which would otherwise wait for the loop's next round (a
    /// quarter of the slots stood empty that way). Anything less plain is left to ``pump(_:now:)``.
    func sendNextAtOnce(_ endpointID: String) {
        let now = clock.now()
        guard !stopping, (pausedUntil ?? now) <= now, let lane = lanes[endpointID], !lane.queue.isEmpty,
              lane.inFlight < configuration.concurrencyPerEndpoint, totalInFlight < configuration.totalConcurrency,
              lane.bucket == nil, (lane.notBefore ?? now) <= now, lane.probeDeliveryID == nil, lane.unrecordedFailures == 0,
              (breakers[endpointID]?.state ?? .closed) == .closed,
              let endpoint = endpoints[endpointID], endpoint.enabled else { return }
        guard let next = lanes[endpointID]?.queue.removeFirst() else { return }
        start(next, endpoint: endpoint)
    }

    /// Counts a freed slot that found its lane with nothing ready (for ``statistics``).
    func noteDryLane(_ endpointID: String) {
        if lanes[endpointID]?.queue.isEmpty ?? true { statistics.dryLane() }
    }

    /// An attempt that failed for a reason of Hookline's own making is no attempt: it is not
    /// recorded, counts against neither the delivery's schedule nor the breaker, and the delivery
    /// goes back to the store, due when sending resumes. Sending pauses, longer each time in a row.
    func putBack(_ delivery: ClaimedDelivery, outcome: TransportOutcome) {
        if lanes[delivery.endpointID]?.probeDeliveryID == delivery.id { lanes[delivery.endpointID]?.probeDeliveryID = nil }
        localFaultStreak += 1
        let pause = min(Self.maximumLocalPause, 0.25 * Double(1 << min(localFaultStreak - 1, 8)))
        let until = clock.now().addingTimeInterval(pause)
        pausedUntil = max(pausedUntil ?? until, until)
        metrics.localFault()
        logger.info("attempt not made: Hookline is out of resources; the delivery is put back", metadata: [
            "delivery.id": "\(delivery.id)", "endpoint.id": "\(delivery.endpointID)", "attempt.error": "\(outcome.errorMessage ?? "local fault")",
            "dispatch.paused_seconds": "\(pause)",
        ])
        returning.append(delivery.id)
        if !returningDeliveries {
            returningDeliveries = true
            Task { await self.returnDeliveries() }
        }
        wake()
    }

    /// Gives the put-back deliveries to the store; if that fails too, their leases bring them back.
    func returnDeliveries() async {
        while !returning.isEmpty {
            let ids = returning
            returning = []
            do {
                try await store.release(ids, nextAttemptAt: pausedUntil ?? clock.now(), owner: owner)
            } catch {
                logger.info("putting deliveries back failed; their leases will return them", metadata: ["error": "\(error)", "deliveries.count": "\(ids.count)"])
            }
        }
        returningDeliveries = false
        wake()
    }

    /// Writes finished attempts in batches until none is left; retries when the disk fails.
    ///
    /// Each batch's transaction also refills the lanes (when no claim is running already), so that
    /// a busy dispatcher needs no claim transactions of its own.
    func flush() async {
        while !pendingResults.isEmpty {
            await gatherBatch()
            let batch = pendingResults
            pendingResults = []
            let now = clock.now()
            let plan = stopping || claiming ? nil : claimPlan(now: now)
            if plan != nil { claiming = true }
            do {
                let written = try await store.record(
                    batch, planner: configuration.planner, owner: owner, at: now,
                    thenClaim: plan, leaseUntil: now.addingTimeInterval(configuration.lease))
                flushFailures = 0
                statistics.recorded(batch.count)
                apply(written.recorded, results: batch)
                for result in batch {
                    runnable.insert(result.delivery.endpointID)
                    lanes[result.delivery.endpointID]?.unrecorded -= 1
                    if !result.attempt.succeeded { lanes[result.delivery.endpointID]?.unrecordedFailures -= 1 }
                }
                if plan != nil {
                    // The results are written; a failed read of new endpoints only delays those deliveries (leases).
                    do { try await enqueue(written.claimed, claimedAt: now) } catch { claimFailure = error }
                }
            } catch {
                flushFailures += 1
                pendingResults = batch + pendingResults
                logger.info("recording attempts failed; retrying", metadata: ["error": "\(error)", "attempts.count": "\(batch.count)"])
                try? await Task.sleep(for: .milliseconds(min(5000, 200 * flushFailures)))
                if stopping && flushFailures > 25 { break }
            }
            if plan != nil { claiming = false }
        }
        flushing = false
        wake()
    }

    /// While busy, lets results gather for up to ``DispatcherConfiguration/recordWindow`` before the
    /// next batch is written, so that each commit carries more of them. The wait ends early when the
    /// batch is large enough or a busy lane has less than half its ready deliveries left: the batch's
    /// transaction is also what claims more work.
    func gatherBatch() async {
        let window = configuration.recordWindow
        defer {
            lastBatchSize = pendingResults.count
            laneRunningLow = false
        }
        guard window > 0, !stopping, lastBatchSize >= 16 else {
            lastBatchStart = ContinuousClock.now
            return
        }
        let due = (lastBatchStart ?? ContinuousClock.now) + .nanoseconds(Int64(window * 1e9))
        while ContinuousClock.now < due, totalInFlight > 0, !stopping, !laneRunningLow, pendingResults.count < configuration.recordBatchTarget {
            try? await Task.sleep(for: .milliseconds(1))
        }
        lastBatchStart = ContinuousClock.now
    }

    func apply(_ recorded: [RecordedAttempt], results: [AttemptResult]) {
        let attempts = Dictionary(results.map { ($0.delivery.id, $0) }) { $1 }
        for item in recorded {
            let result = attempts[item.deliveryID]
            let endpoint = endpoints[item.endpointID].map(EndpointRef.init) ?? EndpointRef(id: item.endpointID, url: "")
            let outcome = item.plan.status == .pending ? "retry" : item.plan.status.rawValue
            metrics.delivery(endpointID: item.endpointID, outcome: outcome, breaker: item.breaker.state)
            let previous = breakers[item.endpointID]
            breakers[item.endpointID] = item.breaker
            if lanes[item.endpointID]?.probeDeliveryID == item.deliveryID {
                lanes[item.endpointID]?.probeDeliveryID = nil
            }
            let metadata: Logger.Metadata = ["endpoint.id": "\(item.endpointID)", "delivery.id": "\(item.deliveryID)"]
            if let transition = item.plan.transition {
                var details = metadata
                details["breaker.state"] = "\(item.breaker.state.rawValue)"
                if let probe = item.breaker.nextProbeAt { details["breaker.next_probe_at"] = "\(Timestamp.iso8601(probe))" }
                details["breaker.previous"] = "\(previous?.state.rawValue ?? "closed")"
                details["breaker.transition"] = "\(transition.rawValue)"
                logger.info("breaker changed", metadata: details)
                switch transition {
                case .opened, .reopened:
                    notices(.breakerOpened(
                        endpoint: endpoint, reopened: transition == .reopened, consecutiveFailures: item.breaker.consecutiveFailures,
                        nextProbeAt: item.breaker.nextProbeAt, lastError: result?.attempt.errorMessage))
                case .closed:
                    notices(.breakerClosed(endpoint: endpoint, byOperator: false))
                }
            }
            if let reason = item.plan.disableEndpoint {
                endpoints[item.endpointID]?.enabled = false
                disabledNoticed.insert(item.endpointID)
                logger.info("endpoint disabled", metadata: metadata.merging(["endpoint.reason": "\(reason)"]) { $1 })
                notices(.endpointDisabled(endpoint: endpoint, reason: reason))
            }
            if item.plan.status == .failed {
                logger.info("delivery failed permanently", metadata: metadata)
                notices(.deliveryFailed(
                    endpoint: endpoint, deliveryID: item.deliveryID, eventID: result?.delivery.eventID ?? "",
                    attempts: result?.attempt.number ?? 0, lastError: result?.attempt.errorMessage))
            }
        }
    }

    func isDrained() async throws(HooklineError) -> Bool {
        guard totalInFlight == 0, pendingResults.isEmpty, !flushing, !claiming, returning.isEmpty, !returningDeliveries,
              lanes.values.allSatisfy({ $0.queue.isEmpty }) else {
            return false
        }
        return try await store.activeDeliveryCount() == 0
    }

    func shutDown() async throws(HooklineError) {
        stopping = true
        while claiming {
            await sleep(until: clock.now().addingTimeInterval(0.01))
        }
        let now = clock.now()
        for (endpointID, lane) in lanes where !lane.queue.isEmpty {
            lanes[endpointID]?.queue.removeAll()
            try await store.release(lane.queue.map(\.id), nextAttemptAt: now, owner: owner)
        }
        // Requests in flight end within the request timeout; wait for them and their records.
        let deadline = clock.now().addingTimeInterval(configuration.requestTimeout + 5)
        while (totalInFlight > 0 || flushing || !pendingResults.isEmpty || returningDeliveries) && clock.now() < deadline {
            await sleep(until: clock.now().addingTimeInterval(0.05))
        }
        logger.info("dispatcher stopped", metadata: ["dispatcher.owner": "\(owner)", "attempts.unrecorded": "\(totalInFlight + pendingResults.count)"])
    }

    // MARK: Sleeping

    func sleep(until deadline: Date) async {
        if wokenEarly {
            wokenEarly = false
            return
        }
        let seconds = deadline.timeIntervalSince(clock.now())
        guard seconds > 0 else { return }
        sleepToken &+= 1
        let token = sleepToken
        await withCheckedContinuation { continuation in
            sleeper = continuation
            let clock = self.clock
            timer = Task {
                await clock.sleep(until: deadline)
                guard !Task.isCancelled else { return }
                self.timerFired(token)
            }
        }
    }

    func timerFired(_ token: Int) {
        guard token == sleepToken, let sleeper else { return }
        self.sleeper = nil
        timer = nil
        sleeper.resume()
    }
}
