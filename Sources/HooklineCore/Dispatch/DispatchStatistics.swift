/// How well a dispatcher kept its pipeline full, for benchmarks and diagnosis: how many attempts
/// each recording transaction carried, and how many requests were in flight on average.
///
/// Kept in real (continuous) time, whatever clock drives the delivery rules: these figures are
/// about the machine, not about the schedule.
public struct DispatchStatistics: Sendable {
    /// Recording transactions written.
    public private(set) var batches = 0
    /// Attempts those transactions recorded.
    public private(set) var attempts = 0
    /// Requests in flight integrated over time (request-seconds), since the first request.
    public private(set) var inFlightSeconds: Double = 0
    /// The time that integral covers.
    public private(set) var seconds: Double = 0
    /// Finished requests whose lane had nothing claimed to send next.
    public private(set) var dryLanes = 0
    private var lastChange: ContinuousClock.Instant?

    public init() {}

    /// Attempts per recording transaction.
    public var attemptsPerBatch: Double { batches > 0 ? Double(attempts) / Double(batches) : 0 }
    /// Requests in flight on average, from the first request on.
    public var meanInFlight: Double { seconds > 0 ? inFlightSeconds / seconds : 0 }

    /// The number of requests in flight is about to change from `count`.
    mutating func inFlightChanges(from count: Int, at now: ContinuousClock.Instant = .now) {
        if let lastChange {
            let elapsed = (now - lastChange).milliseconds / 1000
            inFlightSeconds += Double(count) * elapsed
            seconds += elapsed
        }
        lastChange = now
    }

    /// A finished request found its lane with nothing claimed to send next.
    mutating func dryLane() { dryLanes += 1 }

    /// A recording transaction of `count` attempts was written.
    mutating func recorded(_ count: Int) {
        batches += 1
        attempts += count
    }
}
