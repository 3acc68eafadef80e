import Foundation
import GRDB
import HooklineCore
import Logging

/// The SQLite store: one file in WAL mode, shared by `serve`, the console and the CLI.
///
/// The file is created with mode 0600 (SQLite gives its `-wal` and `-shm` files the same mode).
/// Opening checks that the file is a Hookline database of a schema this build knows before anything
/// is written to it, so that a wrong `--db` never alters someone else's file.
public final class SQLiteStore: HooklineStore {
    /// How to treat a missing file.
    public enum OpenMode: Sendable {
        /// Create the file (and its schema) when it does not exist.
        case createIfMissing
        /// Fail with ``HooklineError/databaseMissing(path:)`` when it does not exist.
        case mustExist
    }

    /// `PRAGMA application_id` of every Hookline database: "HKLN".
    static let applicationID: Int32 = 0x484B_4C4E

    public let location: String
    let pool: DatabasePool
    /// A single read-only connection whose `PRAGMA data_version` reveals commits by anyone else.
    let changeWatcher: DatabaseQueue
    /// Seals and opens endpoint secrets.
    package let secrets: SecretBox
    package let logger: Logger

    /// Opens (or creates) the database at `path` and brings its schema up to date.
    ///
    /// - Parameter secretKey: the key of the endpoint secrets as 64 hex characters; by default
    ///   `HOOKLINE_SECRET_KEY`, and when that is unset the key file beside the database (see ``SecretBox``).
    public init(
        path: String, mode: OpenMode = .createIfMissing,
        secretKey: String? = ProcessInfo.processInfo.environment[SecretBox.environmentVariable],
        logger: Logger = Logger(label: "hookline.store")
    ) throws(HooklineError) {
        self.location = path
        self.logger = logger
        let created = try Self.prepareFile(at: path, mode: mode)
        if !created {
            try Self.checkOwnership(of: path)
        }
        if created {
            try Self.initializeFile(at: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.label = "hookline"
        configuration.prepareDatabase { db in
            // After a large change (a pruning pass) the write-ahead log is cut back to this size
            // instead of keeping its peak size on disk.
            try db.execute(sql: "PRAGMA journal_size_limit = \(64 * 1024 * 1024)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // WAL with FULL sync: a commit survives a power cut, not only a process crash. Set
            // here, on the one writer connection, and not in `prepareDatabase`: the pool switches
            // the writer to WAL after that ran, and with it to `synchronous = NORMAL`, where a
            // commit reaches the disk only at the next checkpoint.
            try pool.barrierWriteWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw Self.map(error, path: path)
        }
        do {
            // A key file is made only for a database whose secrets are not sealed yet.
            let sealed = try pool.read { db in
                try db.tableExists("setting") && String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = 'secret_check'") != nil
            }
            secrets = try SecretBox.forDatabase(at: path, environmentKey: secretKey, mayCreate: !sealed)
        } catch {
            throw Self.map(error, path: path)
        }
        try Self.migrate(pool, path: path, secrets: secrets)
        do {
            let check = try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = 'secret_check'") }
            guard let check, try secrets.unseal(check, endpointID: "setting") == SecretBox.checkValue else {
                throw HooklineError.wrongSecretKey(source: secrets.source)
            }
        } catch {
            throw Self.map(error, path: path)
        }
        var watcherConfiguration = Configuration()
        watcherConfiguration.readonly = true
        watcherConfiguration.busyMode = .timeout(10)
        do {
            changeWatcher = try DatabaseQueue(path: path, configuration: watcherConfiguration)
        } catch {
            throw Self.map(error, path: path)
        }
    }

    /// Checks the directory and the file, creating an empty file with mode 0600 when allowed.
    /// Returns whether the file was created.
    private static func prepareFile(at path: String, mode: OpenMode) throws(HooklineError) -> Bool {
        guard !path.isEmpty else {
            throw .invalidInput("The database path is empty; pass --db PATH or set HOOKLINE_DB.")
        }
        guard !path.utf8.contains(0) else {
            throw .invalidInput("The database path contains a NUL byte; pass a plain file path.")
        }
        let fileManager = FileManager.default
        // Everything before the last slash; NSString.deletingLastPathComponent traps on "." here.
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]).isEmpty ? "/" : String(path[..<$0]) } ?? ""
        var isDirectory: ObjCBool = false
        if !directory.isEmpty {
            guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .databaseDirectoryMissing(path: path)
            }
        }
        if fileManager.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw .invalidInput("The database path '\(path)' is a directory; give a file path such as '\(path)/hookline.db'.")
            }
            return false
        }
        guard mode == .createIfMissing else { throw .databaseMissing(path: path) }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .storage("Hookline cannot create the database '\(path)' (\(reason)); check the directory's permissions.")
        }
        #if canImport(Glibc)
        Glibc.close(fd)
        #else
        Darwin.close(fd)
        #endif
        return true
    }

    /// Writes a new file's first page, before WAL mode fixes its layout: marked as Hookline's, and
    /// with incremental auto-vacuum, so that the pages pruning frees can go back to the file system
    /// (this can only be chosen before the first page is written).
    private static func initializeFile(at path: String) throws(HooklineError) {
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA application_id = \(Self.applicationID)")
            }
            try queue.close()
        } catch {
            throw map(error, path: path)
        }
    }

    /// Refuses a file that is not SQLite, or an SQLite database of another application, read-only.
    private static func checkOwnership(of path: String) throws(HooklineError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .storage("Hookline cannot read the database '\(path)'; check its permissions.")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        if header.isEmpty { return }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw .notAHooklineDatabase(path: path, reason: "it is not an SQLite file")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let (foundID, tables) = try queue.read { db in
                (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") ?? 0)
            }
            try queue.close()
            if foundID == Self.applicationID { return }
            if foundID != 0 {
                throw HooklineError.notAHooklineDatabase(path: path, reason: "it belongs to another application")
            }
            if tables > 0 {
                throw HooklineError.notAHooklineDatabase(path: path, reason: "it holds \(tables) tables of another application")
            }
        } catch {
            throw map(error, path: path)
        }
    }

    private static func migrate(_ pool: DatabasePool, path location: String, secrets: SecretBox) throws(HooklineError) {
        let migrator = Self.migrator(secrets: secrets)
        do {
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded { throw HooklineError.databaseFromNewerVersion(path: location) }
            try migrator.migrate(pool)
            try pool.writeWithoutTransaction { db in
                if try Int32.fetchOne(db, sql: "PRAGMA application_id") != Self.applicationID {
                    try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
                }
            }
        } catch {
            throw Self.map(error, path: location)
        }
    }

    /// Closes the connections; later calls fail.
    public func close() throws(HooklineError) {
        do {
            try changeWatcher.close()
            try pool.close()
        } catch {
            throw Self.map(error, path: location)
        }
    }

    // MARK: Helpers

    package func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(HooklineError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.map(error, path: location)
        }
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(HooklineError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.map(error, path: location)
        }
    }

    /// Turns whatever SQLite or GRDB threw into one sentence the user can act on.
    static func map(_ error: any Error, path: String) -> HooklineError {
        if let error = error as? HooklineError { return error }
        guard let error = error as? DatabaseError else {
            return .storage("The database '\(path)' failed: \(error).")
        }
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode.primaryResultCode {
        case .SQLITE_FULL:
            return .storage("The disk holding '\(path)' is full; free some space and retry (nothing was written).")
        case .SQLITE_NOTADB:
            return .notAHooklineDatabase(path: path, reason: "it is not an SQLite file")
        case .SQLITE_CORRUPT:
            return .storage("The database '\(path)' is corrupt (\(detail)); restore it from a backup.")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH:
            return .storage("Hookline cannot open or write the database '\(path)' (\(detail)); check its permissions.")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .storage("The database '\(path)' stayed locked by another process for 10 s; retry.")
        case .SQLITE_IOERR:
            return .storage("Reading or writing '\(path)' failed (\(detail)); check the disk.")
        default:
            return .storage("The database '\(path)' failed: \(detail).")
        }
    }

    package static func millis(_ date: Date) -> Int64 { Timestamp.milliseconds(date) }
    package static func millis(_ date: Date?) -> Int64? { date.map(Timestamp.milliseconds) }
}
