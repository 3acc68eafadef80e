import Foundation

/// Keeping the store small and closing it: pruning, giving space back, and the end of its life.
public protocol StoreMaintenance: Sendable {
    // MARK: Retention

    /// One step of a pruning pass: looks at up to `limit` events older than the rule's cutoff, oldest
    /// first after `cursor`, and removes those the rule allows with their deliveries and attempts
    /// (the first step, with no cursor, also removes old test sends). A dry run counts and changes
    /// nothing. Each step is one short transaction, so that the dispatcher's writes go on between steps.
    func prune(_ rule: PruneRule, after cursor: PruneCursor?, limit: Int, dryRun: Bool) async throws(HooklineError) -> PruneStep
    /// Gives up to `maximumBytes` of the space that pruning freed back to the file system, in one
    /// transaction; nil when this database can only reuse the space for new rows.
    func reclaimSpace(maximumBytes: Int64) async throws(HooklineError) -> ReclaimStep?

    // MARK: Backup

    /// Copies the database, consistently and while others write to it, into the new file `path`
    /// (mode 0600; never an existing file), with what opens its secrets beside it; with `verify`,
    /// opens the copy and checks it. Every change committed before the copy began is in it.
    /// A back end that is backed up by its own tools refuses with the sentence naming them.
    func backup(to path: String, verify: Bool) async throws(HooklineError) -> BackupReport

    // MARK: Life

    /// Releases the store's connections and files; nothing may be called after it.
    func close() async throws(HooklineError)
}
