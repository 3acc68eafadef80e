import HooklineCore
import Metrics
import ServiceLifecycle

/// Pending, held and failed deliveries and the breakers that are not closed as gauges, every
/// ``interval`` (breakers also change from other processes, such as a reset from the CLI). A
/// breaker that closes is reported once as 0; closed breakers are not read, however many
/// endpoints exist.
public struct GaugeSampler: Service {
    public let store: any HooklineStore
    public var interval: Duration

    public init(store: any HooklineStore, interval: Duration = .seconds(5)) {
        self.store = store
        self.interval = interval
    }

    public func run() async {
        await cancelWhenGracefulShutdown { await sample() }
    }

    func sample() async {
        var reported = Set<String>()
        while !Task.isCancelled {
            if let counts = try? await store.deliveryCounts() {
                Gauge(label: "hookline_pending_deliveries").record(counts.pending)
                Gauge(label: "hookline_held_deliveries").record(counts.held)
                Gauge(label: "hookline_failed_deliveries").record(counts.failed)
            }
            if let breakers = try? await store.breakers(endpointIDs: reported.sorted(), orNotClosed: true) {
                var open = Set<String>()
                for breaker in breakers {
                    Gauge(label: "hookline_breaker_state", dimensions: [("endpoint", breaker.endpointID)])
                        .record(breaker.state == .closed ? 0 : (breaker.state == .halfOpen ? 1 : 2))
                    if breaker.state != .closed { open.insert(breaker.endpointID) }
                }
                reported = open
            }
            try? await Task.sleep(for: interval)
        }
    }
}
