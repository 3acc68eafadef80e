import ArgumentParser
import Foundation
import HooklineCore

struct BackupCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy an SQLite database, consistently, while `hookline serve` and the console run.",
        discussion: """
            The copy holds every change committed before it began, written to a new file with mode 0600; the \
            key file that opens the endpoint secrets goes beside it as FILE.key (unless the key is in \
            $HOOKLINE_SECRET_KEY, which stays yours to keep). Copying hookline.db with cp is not a backup: recent \
            commits live in hookline.db-wal until a checkpoint, and a copy of the main file alone loses them. \
            To restore: stop serve, put FILE in place of the database and FILE.key in place of its key file. \
            A PostgreSQL database is backed up with pg_dump.
            Example: hookline backup --to /var/backups/hookline-$(date +%F).db --verify
            """)

    @Option(help: ArgumentHelp("The new file to write; it must not exist yet.", valueName: "file"))
    var to: String
    @Flag(help: "Open the copy afterwards, run PRAGMA integrity_check and count its events.")
    var verify = false
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: JSONFlag

    func execute() async throws {
        let opened = try await store.open(creating: false)
        let report: BackupReport
        do {
            report = try await opened.backup(to: to, verify: verify)
        } catch {
            try? await opened.close()
            throw error
        }
        try await opened.close()
        if let verification = report.verification, verification.integrity != "ok" {
            throw HooklineError.storage("The backup '\(report.path)' failed its integrity check (\(verification.integrity)); keep the database and take the backup again.")
        }
        if output.json {
            Output.json(JSONRendering.backup(report))
            return
        }
        Output.line("Wrote \(report.path) (\(StorageSize.format(report.bytes)), mode 0600) in \(String(format: "%.1f", report.seconds)) s.")
        switch report.key {
        case .copied(let path):
            Output.line("The secrets' key went beside it to \(path); keep the two together, and apart from anyone who must not read the secrets.")
        case .environment(let variable):
            Output.line("The secrets are sealed with the key in $\(variable); it is not in the backup: keep it where you keep that variable.")
        }
        if let v = report.verification {
            Output.line("Verified: integrity \(v.integrity), \(v.events) \(v.events == 1 ? "event" : "events"), \(v.deliveries) \(v.deliveries == 1 ? "delivery" : "deliveries").")
        }
    }
}
