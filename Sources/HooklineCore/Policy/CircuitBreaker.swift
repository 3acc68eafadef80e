import Foundation

/// The state of one endpoint's circuit breaker, as stored and shown.
public enum BreakerState: String, Sendable, Hashable {
    /// Requests flow.
    case closed
    /// Requests wait until `nextProbeAt`; no attempt is used up.
    case open
    /// One probe is allowed; its result closes or re-opens the breaker.
    case halfOpen = "half_open"
}

/// Thresholds of the circuit breaker.
public struct BreakerConfiguration: Sendable, Hashable {
    /// Consecutive failures that open the breaker.
    public var consecutiveFailures: Int
    /// Attempts in the window before the failure ratio counts.
    public var windowMinimumAttempts: Int
    /// The failure ratio over the window that opens the breaker.
    public var windowFailureRatio: Double
    /// The length of the window.
    public var window: TimeInterval
    /// How long the breaker stays open after its first trip.
    public var openInterval: TimeInterval
    /// The longest it stays open after repeated trips (the interval doubles each time).
    public var maximumOpenInterval: TimeInterval

    public init(
        consecutiveFailures: Int = 5, windowMinimumAttempts: Int = 20, windowFailureRatio: Double = 0.5,
        window: TimeInterval = 300, openInterval: TimeInterval = 30, maximumOpenInterval: TimeInterval = 600
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.windowMinimumAttempts = windowMinimumAttempts
        self.windowFailureRatio = windowFailureRatio
        self.window = window
        self.openInterval = openInterval
        self.maximumOpenInterval = maximumOpenInterval
    }
}

/// One endpoint's circuit breaker: a value that moves only when told what happened and when.
///
/// closed → open (N consecutive failures, or a failure ratio over a window with enough attempts) →
/// half-open once `nextProbeAt` passes → one probe → closed on success, open again (for twice as
/// long, up to a maximum) on failure. The window is fixed: it restarts after `window` seconds.
public struct CircuitBreaker: Sendable, Hashable {
    public var endpointID: String
    public var state: BreakerState = .closed
    public var consecutiveFailures = 0
    public var windowStartedAt: Date?
    public var windowAttempts = 0
    public var windowFailures = 0
    public var openedAt: Date?
    public var nextProbeAt: Date?
    /// How many times it opened since it last closed after a successful probe (sets the interval).
    public var trips = 0
    /// Since when the endpoint has had nothing but failures; nil after a success.
    public var failingSince: Date?
    public var updatedAt: Date?

    public init(endpointID: String) {
        self.endpointID = endpointID
    }

    /// What the dispatcher may do with a delivery for this endpoint now.
    public enum Decision: Sendable, Hashable {
        /// Send it.
        case send
        /// Send it as the single half-open probe.
        case probe
        /// Do not send; try again at this time.
        case wait(until: Date)
    }

    /// Decides for the next request; `probeInFlight` tells whether the probe has been sent already.
    public func decision(now: Date, probeInFlight: Bool) -> Decision {
        switch state {
        case .closed:
            return .send
        case .open:
            let probeAt = nextProbeAt ?? now
            if now >= probeAt { return probeInFlight ? .wait(until: now.addingTimeInterval(1)) : .probe }
            return .wait(until: probeAt)
        case .halfOpen:
            return probeInFlight ? .wait(until: now.addingTimeInterval(1)) : .probe
        }
    }

    /// Records the result of an attempt; returns the transition it caused, if any.
    @discardableResult
    public mutating func record(success: Bool, at now: Date, configuration: BreakerConfiguration) -> Transition? {
        updatedAt = now
        if let start = windowStartedAt, now.timeIntervalSince(start) < configuration.window {
            windowAttempts += 1
        } else {
            windowStartedAt = now
            windowAttempts = 1
            windowFailures = 0
        }
        if success {
            consecutiveFailures = 0
            failingSince = nil
            if state != .closed {
                state = .closed
                openedAt = nil
                nextProbeAt = nil
                trips = 0
                windowStartedAt = now
                windowAttempts = 1
                windowFailures = 0
                return .closed
            }
            return nil
        }
        consecutiveFailures += 1
        windowFailures += 1
        if failingSince == nil { failingSince = now }
        switch state {
        case .halfOpen:
            trip(at: now, configuration: configuration)
            return .reopened
        case .open:
            // A request sent before the breaker opened has failed too: counted, no new trip.
            return nil
        case .closed:
            let ratioTripped = windowAttempts >= configuration.windowMinimumAttempts
                && Double(windowFailures) / Double(windowAttempts) >= configuration.windowFailureRatio
            if consecutiveFailures >= configuration.consecutiveFailures || ratioTripped {
                trip(at: now, configuration: configuration)
                return .opened
            }
            return nil
        }
    }

    private mutating func trip(at now: Date, configuration: BreakerConfiguration) {
        let interval = min(configuration.openInterval * pow(2, Double(trips)), configuration.maximumOpenInterval)
        trips += 1
        state = .open
        openedAt = now
        nextProbeAt = now.addingTimeInterval(interval)
    }

    /// Moves an open breaker whose probe time has come to half-open (for display and the probe).
    public mutating func beginProbe(at now: Date) {
        if state == .open { state = .halfOpen }
        updatedAt = now
    }

    /// Closes the breaker by hand, forgetting its history.
    public mutating func reset(at now: Date) {
        self = CircuitBreaker(endpointID: endpointID)
        updatedAt = now
    }

    /// A change of state worth telling operators about.
    public enum Transition: String, Sendable, Hashable {
        case opened, reopened, closed
    }
}
