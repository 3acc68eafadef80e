import Foundation

/// What a pruning pass removed (or, in a dry run, would remove).
public struct PruneReport: Sendable, Hashable {
    public var rule: PruneRule
    public var dryRun: Bool
    public var counts: PruneCounts
    /// Space given back to the file system: 0 in a dry run, nil for a database that can only reuse it.
    public var freedBytes: Int64?
    /// Transactions the pass took, and the longest of them: how long it held the database's
    /// single writer (the dispatcher's records wait that long at most).
    public var steps: Int
    public var longestStep: Duration
}

extension Operations {
    /// Events looked at per pruning transaction.
    public static let pruneStepSize = 200
    /// Space given back to the file system per transaction.
    public static let reclaimStepBytes: Int64 = 1024 * 1024

    /// Removes events accepted more than `age` ago whose deliveries all succeeded (or, with
    /// `includeFailed`, finished failing), with their deliveries and attempts, and old test sends.
    ///
    /// Pending, sending and held deliveries are never removed. The pass is a series of short
    /// transactions with a rest after each of at least `pause` and at least half as long as the
    /// transaction took, so that a running dispatcher gets the database at least a third of the
    /// time even on a slow disk.
    public func prune(
        olderThan age: TimeInterval, includeFailed: Bool = false, dryRun: Bool = false,
        stepSize: Int = Operations.pruneStepSize, pause: Duration = .zero
    ) async throws(HooklineError) -> PruneReport {
        guard age >= 0, age.isFinite else {
            throw .invalidInput("The age to prune must be 0s or more, such as 30d.")
        }
        guard stepSize >= 1 else { throw .invalidInput("The pruning step must be at least 1 event.") }
        let rule = PruneRule(cutoff: clock.now().addingTimeInterval(-age), includeFailed: includeFailed)
        var counts = PruneCounts()
        var cursor: PruneCursor?
        var steps = 0
        var longest = Duration.zero
        let clock = ContinuousClock()
        repeat {
            let started = clock.now
            let step = try await store.prune(rule, after: cursor, limit: stepSize, dryRun: dryRun)
            let took = clock.now - started
            longest = max(longest, took)
            counts = counts + step.counts
            cursor = step.next
            steps += 1
            if cursor != nil && !dryRun {
                try? await Task.sleep(for: max(pause, took / 2))
            }
        } while cursor != nil && !Task.isCancelled
        var freed: Int64? = 0
        if !dryRun && counts.removedAnything {
            freed = try await reclaim(pause: pause, longest: &longest, steps: &steps)
            let detail = "older than \(DurationText.format(age))\(includeFailed ? ", failed included" : ""): "
                + "\(counts.events) events, \(counts.deliveries) deliveries, \(counts.attempts) attempts, \(counts.testSends) test sends"
            try await store.recordAudit(audit("prune", [], detail))
            logger.info("pruned old events", metadata: [
                "prune.events": "\(counts.events)", "prune.deliveries": "\(counts.deliveries)", "prune.attempts": "\(counts.attempts)",
                "prune.test_sends": "\(counts.testSends)", "prune.kept_events": "\(counts.keptEvents)", "prune.freed_bytes": "\(freed ?? 0)",
            ])
        }
        return PruneReport(rule: rule, dryRun: dryRun, counts: counts, freedBytes: freed, steps: steps, longestStep: longest)
    }

    /// Gives the freed space back in steps; nil when the database can only reuse it.
    func reclaim(pause: Duration, longest: inout Duration, steps: inout Int) async throws(HooklineError) -> Int64? {
        let clock = ContinuousClock()
        var freed: Int64 = 0
        while !Task.isCancelled {
            let started = clock.now
            guard let step = try await store.reclaimSpace(maximumBytes: Self.reclaimStepBytes) else { return nil }
            let took = clock.now - started
            longest = max(longest, took)
            steps += 1
            freed += step.freedBytes
            if step.remainingBytes == 0 || step.freedBytes == 0 { break }
            try? await Task.sleep(for: max(pause, took / 2))
        }
        return freed
    }
}
