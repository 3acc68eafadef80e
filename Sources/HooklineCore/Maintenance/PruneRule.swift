import Foundation

/// Which old events may be removed with their deliveries and attempts.
///
/// An event goes only when every one of its deliveries is finished: `succeeded`, or also `failed`
/// with ``includeFailed``. Deliveries still `pending`, `sending` or `held` keep their event whatever
/// its age: they are work not done yet.
public struct PruneRule: Sendable, Hashable {
    /// Events accepted before this time are candidates.
    public var cutoff: Date
    /// Remove events whose deliveries failed for good too.
    public var includeFailed: Bool

    public init(cutoff: Date, includeFailed: Bool = false) {
        self.cutoff = cutoff
        self.includeFailed = includeFailed
    }

    /// The delivery statuses an event's deliveries may all have for it to be removed.
    public var removableStatuses: [DeliveryStatus] { includeFailed ? [.succeeded, .failed] : [.succeeded] }
}

/// Where a pruning pass stopped: the last event it looked at, oldest first.
public struct PruneCursor: Sendable, Hashable {
    public var createdAt: Date
    public var eventID: String

    public init(createdAt: Date, eventID: String) {
        self.createdAt = createdAt
        self.eventID = eventID
    }
}

/// What one pruning step removed (or, in a dry run, would remove).
public struct PruneCounts: Sendable, Hashable {
    public var events = 0
    public var deliveries = 0
    public var attempts = 0
    /// Test sends older than the cutoff.
    public var testSends = 0
    /// Old events kept because a delivery of theirs is not finished (or failed, without `includeFailed`).
    public var keptEvents = 0

    public init(events: Int = 0, deliveries: Int = 0, attempts: Int = 0, testSends: Int = 0, keptEvents: Int = 0) {
        self.events = events
        self.deliveries = deliveries
        self.attempts = attempts
        self.testSends = testSends
        self.keptEvents = keptEvents
    }

    public static func + (a: PruneCounts, b: PruneCounts) -> PruneCounts {
        PruneCounts(
            events: a.events + b.events, deliveries: a.deliveries + b.deliveries, attempts: a.attempts + b.attempts,
            testSends: a.testSends + b.testSends, keptEvents: a.keptEvents + b.keptEvents)
    }

    /// Whether anything was (or would be) removed.
    public var removedAnything: Bool { events + deliveries + attempts + testSends > 0 }
}

/// One step of a pruning pass: its counts, and where to go on from (nil when the pass is done).
public struct PruneStep: Sendable, Hashable {
    public var counts: PruneCounts
    public var next: PruneCursor?

    public init(counts: PruneCounts, next: PruneCursor?) {
        self.counts = counts
        self.next = next
    }
}
