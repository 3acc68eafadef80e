import Foundation

/// The rule of a claim, the same for every store: fed the endpoints with pending work in the order
/// of the walk, it says how many deliveries to take from each, and where the next walk resumes.
///
/// A store only finds the heads (``EndpointHead``) and takes the rows; what to take is decided here.
/// Each endpoint gets at most its room (the plan's ``ClaimPlan/capacity``, or the dispatcher's own
/// figure for endpoints it holds work for), at most what is due, nothing while its breaker is open,
/// one delivery when a probe is due, and all of them together at most the plan's budget.
public struct ClaimAllotment: Sendable {
    public let plan: ClaimPlan
    public let now: Date
    /// Deliveries still to hand out.
    public private(set) var budget: Int
    /// Endpoints looked at so far.
    public private(set) var visited = 0
    /// The last endpoint looked at.
    public private(set) var last: String?
    public private(set) var requests: [ClaimRequest] = []

    public init(_ plan: ClaimPlan, now: Date) {
        self.plan = plan
        self.now = now
        self.budget = max(0, plan.budget)
    }

    /// Whether the walk should look at another endpoint.
    public var wantsMore: Bool { budget > 0 && visited < plan.maxEndpoints }

    /// The most due deliveries any endpoint could get (how far a store needs to count them).
    public var largestRoom: Int { max(plan.capacity, plan.rooms.values.max() ?? 0) }

    /// Looks at the next endpoint of the walk; returns what to claim from it, or nil for nothing.
    public mutating func offer(_ head: EndpointHead) -> ClaimRequest? {
        guard wantsMore else { return nil }
        visited += 1
        last = head.endpointID
        guard head.earliestDue <= now, head.dueCount > 0 else { return nil }
        var room = plan.rooms[head.endpointID] ?? plan.capacity
        if let breaker = head.breaker {
            // A fresh half-open breaker has its probe in flight somewhere; a stale one is taken over.
            let probing = breaker.state == .halfOpen
                && (breaker.updatedAt ?? .distantPast) > now.addingTimeInterval(-plan.probeTakeOver)
            switch breaker.decision(now: now, probeInFlight: probing) {
            case .send: break
            case .probe: room = min(room, 1)
            case .wait: room = 0
            }
        }
        let limit = min(room, head.dueCount, budget)
        guard limit > 0 else { return nil }
        budget -= limit
        let request = ClaimRequest(endpointID: head.endpointID, limit: limit, manualOnly: !head.enabled)
        requests.append(request)
        return request
    }

    /// Gives back what a request did not take (fewer rows than counted, or a rate limit's tokens).
    public mutating func unused(_ count: Int) {
        budget += max(0, count)
    }

    /// Where the next claim's walk resumes: after the last endpoint looked at when this walk stopped
    /// early (budget spent, or the visit limit reached), or from the start when it saw everything.
    public var cursor: String? {
        wantsMore ? nil : last
    }

    /// The two laps of a walk: endpoints after the cursor, then from the first up to the cursor
    /// (none when there is no cursor). `upTo` bounds the second lap.
    public var laps: [(after: String?, upTo: String?)] {
        if let after = plan.after { return [(after, nil), (nil, after)] }
        return [(nil, nil)]
    }
}
