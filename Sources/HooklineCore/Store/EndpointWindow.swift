import Foundation

/// Which endpoints a console frame shows, so that its cost grows with what an operator looks at,
/// not with the number of endpoints: first those that need an operator (open breakers, then
/// half-open ones, then endpoints failing in the last hour, then those with failed deliveries
/// listed), then the others in id order, `limit` in all (the ones that need an operator always).
public struct EndpointWindow: Sendable, Hashable {
    public var limit: Int
    /// Keeps, among the others, those whose id, URL or description contains this (any case).
    public var filter: String?
    /// Only this tenant's endpoints, events, failed deliveries and breakers, when set: the whole
    /// frame is scoped to it.
    public var tenant: String?

    public init(limit: Int = 200, filter: String? = nil, tenant: String? = nil) {
        self.limit = max(0, limit)
        self.tenant = tenant
        let trimmed = filter?.trimmingCharacters(in: .whitespaces).lowercased()
        self.filter = trimmed?.isEmpty == false ? trimmed : nil
    }

    /// The endpoints that need an operator, most urgent first (every store applies this rule).
    public static func attention(breakers: [CircuitBreaker], stats: [String: EndpointStats], failed: [DeliveryRow]) -> [String] {
        var order: [String] = []
        var seen = Set<String>()
        func add(_ id: String) { if seen.insert(id).inserted { order.append(id) } }
        for state in [BreakerState.open, .halfOpen] {
            for breaker in breakers.filter({ $0.state == state }).sorted(by: { ($0.openedAt ?? .distantPast, $0.endpointID) < ($1.openedAt ?? .distantPast, $1.endpointID) }) {
                add(breaker.endpointID)
            }
        }
        let failing = stats.filter { $0.value.successes < $0.value.attempts }
            .sorted { ($0.value.attempts - $0.value.successes, $1.key) > ($1.value.attempts - $1.value.successes, $0.key) }
        for (id, _) in failing { add(id) }
        for row in failed { add(row.delivery.endpointID) }
        return order
    }
}
