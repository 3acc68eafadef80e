import Metrics

/// The dispatcher's metric handles, each made once per label set.
///
/// Making a handle asks the metrics factory, which locks and allocates; the dispatcher records
/// several figures per attempt, so it keeps the handles it has made.
struct DispatchMetrics {
    private var attempts: [String: Counter] = [:]
    private var durations: [String: Metrics.Timer] = [:]
    private var deliveries: [DeliveryKey: Counter] = [:]
    private var breakerStates: [String: Gauge] = [:]
    private var claimLag: Metrics.Timer?
    private var localFaults: Counter?

    private struct DeliveryKey: Hashable {
        var endpointID: String
        var outcome: String
    }

    /// One finished attempt: its status class (`2xx`, `timeout`, …) and how long it took.
    mutating func attempt(endpointID: String, statusClass: String, durationMs: Int) {
        let counter = attempts[statusClass] ?? Counter(label: "hookline_attempts_total", dimensions: [("status_class", statusClass)])
        attempts[statusClass] = counter
        counter.increment()
        let timer = durations[endpointID] ?? Metrics.Timer(label: "hookline_attempt_duration_seconds", dimensions: [("endpoint", endpointID)])
        durations[endpointID] = timer
        timer.recordMilliseconds(durationMs)
    }

    /// One recorded attempt's outcome for its delivery (`succeeded`, `retry`, `failed`, …) and the breaker after it.
    mutating func delivery(endpointID: String, outcome: String, breaker: BreakerState) {
        let key = DeliveryKey(endpointID: endpointID, outcome: outcome)
        let counter = deliveries[key] ?? Counter(label: "hookline_deliveries_total", dimensions: [("endpoint", endpointID), ("outcome", outcome)])
        deliveries[key] = counter
        counter.increment()
        let gauge = breakerStates[endpointID] ?? Gauge(label: "hookline_breaker_state", dimensions: [("endpoint", endpointID)])
        breakerStates[endpointID] = gauge
        gauge.record(breaker == .closed ? 0 : (breaker == .halfOpen ? 1 : 2))
    }

    /// An attempt not made for a reason of Hookline's own (out of descriptors or memory).
    mutating func localFault() {
        let counter = localFaults ?? Counter(label: "hookline_dispatch_local_failures_total")
        localFaults = counter
        counter.increment()
    }

    /// How late a claimed delivery was, from its due time to its claim.
    mutating func claimLag(seconds: Double) {
        let timer = claimLag ?? Metrics.Timer(label: "hookline_claim_lag_seconds")
        claimLag = timer
        timer.recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }
}
