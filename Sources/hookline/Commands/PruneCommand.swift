import ArgumentParser
import Foundation
import HooklineCore

struct PruneCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove old events whose deliveries all succeeded, with their deliveries and attempts.",
        discussion: """
            Events accepted before the age given are removed when every delivery of theirs succeeded (or, with \
            --include-failed, finished failing); old test sends go too. Pending, sending and held deliveries are never \
            removed. Safe while `hookline serve` runs: the work is done in short transactions. `serve --retention` \
            does the same on its own.
            """)

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Remove what was accepted longer ago than this, such as 30d or 12h.", valueName: "duration"))
    var olderThan: String
    @Flag(name: .customLong("include-failed"), help: "Remove events whose deliveries failed for good, too.")
    var includeFailed = false
    @Flag(name: .customLong("dry-run"), help: "Count what would be removed; change nothing.")
    var dryRun = false
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        let age = try DurationOption.seconds(olderThan, flag: "older-than")
        let report = try await store.operations(creating: false).prune(olderThan: age, includeFailed: includeFailed, dryRun: dryRun)
        if output.json {
            Output.json(JSONRendering.prune(report))
            return
        }
        let c = report.counts
        let what = "\(c.events) \(c.events == 1 ? "event" : "events"), \(c.deliveries) \(c.deliveries == 1 ? "delivery" : "deliveries"), "
            + "\(c.attempts) \(c.attempts == 1 ? "attempt" : "attempts") and \(c.testSends) test \(c.testSends == 1 ? "send" : "sends")"
        let cutoff = "accepted before \(Output.time(report.rule.cutoff))"
        let steps = "\(report.steps) \(report.steps == 1 ? "step" : "steps"), the longest \(Int(report.longestStep.milliseconds)) ms"
        if report.dryRun {
            Output.line("Would remove \(what) \(cutoff) (dry run: nothing changed; \(steps)).")
        } else {
            Output.line("Removed \(what) \(cutoff) in \(steps).")
        }
        if c.keptEvents > 0 {
            let kept = includeFailed ? "pending, sending or held" : "pending, sending, held or failed"
            Output.line("Kept \(c.keptEvents) old \(c.keptEvents == 1 ? "event" : "events") with \(kept) deliveries"
                + (includeFailed ? "." : "; --include-failed removes the failed ones too."))
        }
        if !report.dryRun && c.removedAnything {
            if let freed = report.freedBytes {
                Output.line("Gave \(StorageSize.format(freed)) back to the file system.")
            } else {
                Output.line("The space freed is reused for new rows rather than given back to the file system (PostgreSQL, or an SQLite file made before Hookline gave space back).")
            }
        }
    }
}
