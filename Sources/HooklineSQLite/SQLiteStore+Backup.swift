import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    /// Copies the database with SQLite's backup interface, in one step inside one read transaction:
    /// the copy is the snapshot that transaction sees (every commit before it began, none after),
    /// and writers go on meanwhile (in WAL mode a reader holds nobody up). Then the key file goes
    /// beside the copy, and with `verify` the copy is opened as a Hookline database (its secrets
    /// with the copied key) and checked with `PRAGMA integrity_check`.
    public func backup(to path: String, verify: Bool) async throws(HooklineError) -> BackupReport {
        let started = ContinuousClock.now
        let keyFile = location + ".key"
        let copiesKey = secrets.isFromKeyFile
        try Self.checkBackupTarget(path, keyPath: copiesKey ? path + ".key" : nil)
        try Self.createPrivateFile(path, contents: nil)
        do {
            let destination = try DatabaseQueue(path: path)
            try await pool.read { source in
                try destination.writeWithoutTransaction { copy in try source.backup(to: copy) }
            }
            try destination.close()
        } catch {
            unlink(path)
            throw Self.map(error, path: path)
        }
        let key: BackupReport.Key
        if copiesKey {
            guard let bytes = FileManager.default.contents(atPath: keyFile) else {
                unlink(path)
                throw .storage("Hookline cannot read the key file '\(keyFile)'; check its permissions.")
            }
            do {
                try Self.createPrivateFile(path + ".key", contents: bytes)
            } catch {
                unlink(path)
                throw error
            }
            key = .copied(path: path + ".key")
        } else {
            key = .environment(variable: SecretBox.environmentVariable)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        var verification: BackupReport.Verification?
        if verify {
            let copy = try SQLiteStore(path: path, mode: .mustExist, secretKey: copiesKey ? nil : secrets.keyHex, logger: logger)
            let checked = try await copy.read { db in
                BackupReport.Verification(
                    integrity: try String.fetchAll(db, sql: "PRAGMA integrity_check(10)").joined(separator: "; "),
                    events: try Int.fetchOne(db, sql: "SELECT count(*) FROM event") ?? 0,
                    deliveries: try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery") ?? 0)
            }
            try copy.close()
            // The store's pool closes its read-only connections last, which leaves the copy's
            // write-ahead log on disk; one more connection folds it back so the backup stays one file.
            do {
                let queue = try DatabaseQueue(path: path)
                try await queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
                try queue.close()
            } catch {
                throw Self.map(error, path: path)
            }
            verification = checked
        }
        let elapsed = ContinuousClock.now - started
        logger.info("backup written", metadata: ["backup.path": "\(path)", "backup.bytes": "\(bytes)"])
        return BackupReport(path: path, bytes: bytes, key: key, seconds: elapsed.milliseconds / 1000, verification: verification)
    }

    /// Refuses a path that is empty, in a missing directory, or already taken (the copy's or its key file's).
    static func checkBackupTarget(_ path: String, keyPath: String?) throws(HooklineError) {
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw .invalidInput("The backup path is empty or not a plain file path; pass --to FILE.")
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]).isEmpty ? "/" : String(path[..<$0]) } ?? "."
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .invalidInput("The directory of the backup path '\(path)' does not exist; create it first or pass another --to.")
        }
        for taken in [path, keyPath].compactMap({ $0 }) where FileManager.default.fileExists(atPath: taken) {
            throw .invalidInput("'\(taken)' already exists; a backup never replaces a file: pass a new --to path or remove the old one.")
        }
    }

    /// Creates `path` with mode 0600 (never an existing file), writes `contents` and syncs them.
    static func createPrivateFile(_ path: String, contents: Data?) throws(HooklineError) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .storage("Hookline cannot create '\(path)' (\(String(cString: strerror(errno)))); check the directory's permissions.")
        }
        defer { Glibc.close(fd) }
        guard let contents else { return }
        let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            unlink(path)
            throw .storage("Hookline cannot write '\(path)'; check the free space.")
        }
    }
}
