import Foundation
import HooklineCore

extension PostgresStore {
    /// PostgreSQL has its own online backups; this store copies nothing.
    public func backup(to path: String, verify: Bool) async throws(HooklineError) -> BackupReport {
        throw .invalidInput(
            "A PostgreSQL database is backed up with PostgreSQL's own tools: run pg_dump --format=custom on the same URL (or use pg_basebackup); `hookline backup` copies SQLite files.")
    }
}
