import Foundation

/// What an erasure did, summed over its steps.
public struct RedactionReport: Sendable, Hashable {
    /// The events redacted now (for a tenant, how many: ``redactedCount``; ids only for named events).
    public var redacted: [String] = []
    public var redactedCount = 0
    /// Events that had been redacted before.
    public var alreadyRedactedCount = 0
    /// Unsent deliveries cancelled (now failed; never sent).
    public var cancelledDeliveries = 0
    /// Response excerpts replaced by the marker (attempts, and a tenant's test sends).
    public var clearedResponses = 0

    public init() {}

    mutating func add(_ step: RedactionStep, keepIDs: Bool) {
        if keepIDs { redacted += step.redacted }
        redactedCount += step.redacted.count
        alreadyRedactedCount += step.alreadyRedacted.count
        cancelledDeliveries += step.cancelledDeliveries
        clearedResponses += step.clearedResponses
    }
}

extension Operations {
    /// The most events one `redactEvents` call takes.
    public static let maximumRedactedEventsPerCall = 1000

    /// Replaces the payloads of these events and their attempts' response excerpts with a marker,
    /// keeping ids, types, timestamps, statuses and counts; their unsent deliveries are cancelled.
    /// Every id must name an event (of `tenant`, when given) or nothing changes.
    public func redactEvents(_ ids: [String], tenant: String? = nil) async throws(HooklineError) -> RedactionReport {
        guard !ids.isEmpty else {
            throw .invalidInput("Name at least one event id (evt_…) to redact.")
        }
        guard ids.count <= Self.maximumRedactedEventsPerCall else {
            throw .invalidInput("\(ids.count) event ids is more than \(Self.maximumRedactedEventsPerCall) at once; redact them in several calls, or erase the whole tenant with `hookline tenant erase`.")
        }
        for id in ids { try Identifier.validate(id, prefix: Identifier.eventPrefix, kind: "event") }
        if let tenant { _ = try await self.tenant(id: tenant) }
        for id in ids {
            guard let summary = try await store.event(id: id), tenant == nil || summary.event.tenant == tenant else {
                throw tenant.map { .notFound(kind: "event of tenant \($0)", id: id) } ?? .notFound(kind: "event", id: id)
            }
        }
        let step = try await store.redact(.events(ids), after: nil, limit: ids.count, at: clock.now(), audit: audit("event.redact", ids))
        if let missing = step.missing.first { throw .notFound(kind: "event", id: missing) }
        var report = RedactionReport()
        report.add(step, keepIDs: true)
        logger.info("events redacted", metadata: ["events.count": "\(report.redactedCount)", "audit.actor": "\(actor.rawValue)"])
        return report
    }

    /// Redacts every event of a tenant, `stepSize` events per transaction (so that the dispatcher
    /// keeps writing between steps), and the response excerpts of its endpoints' test sends. The
    /// tenant, its endpoints and its delivery history stay. Each step writes its own audit entry;
    /// a tenant with nothing left to redact gets one that says so.
    public func eraseTenant(_ tenant: String, stepSize: Int = 500) async throws(HooklineError) -> RedactionReport {
        _ = try await self.tenant(id: tenant)
        var report = RedactionReport()
        var cursor: PruneCursor?
        repeat {
            let step = try await store.redact(
                .tenant(tenant), after: cursor, limit: stepSize, at: clock.now(), audit: audit("tenant.erase", [tenant], "tenant \(tenant)"))
            report.add(step, keepIDs: false)
            cursor = step.next
        } while cursor != nil
        if report.redactedCount == 0 {
            let cleared = report.clearedResponses == 0 ? "" : ", \(report.clearedResponses) test-send responses cleared"
            try await store.recordAudit(audit("tenant.erase", [tenant], "tenant \(tenant): no event left to redact" + cleared))
        }
        logger.info("tenant erased", metadata: ["tenant.id": "\(tenant)", "events.count": "\(report.redactedCount)", "audit.actor": "\(actor.rawValue)"])
        return report
    }
}
