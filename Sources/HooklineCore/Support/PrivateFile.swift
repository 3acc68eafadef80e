import Foundation

/// Files only their owner may read (a database, its key file, a backup): created with mode 0600,
/// never over a file that exists.
package enum PrivateFile {
    /// Why a file could not be made.
    package enum Failure: Error, Sendable {
        /// It could not be created; the reason is the system's (`strerror`).
        case create(reason: String)
        /// Its contents could not be written and synced; the file was removed again.
        case write
    }

    /// Creates `path` and, when there are `contents`, writes and syncs them.
    package static func create(_ path: String, contents: [UInt8] = []) throws(Failure) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .create(reason: String(cString: strerror(errno))) }
        guard !contents.isEmpty else {
            close(fd)
            return
        }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == contents.count, synced == 0 else {
            unlink(path)
            throw .write
        }
    }

    /// The directory of a path: everything before the last slash (`/` for a file in the root), or
    /// nil for a bare file name. (NSString.deletingLastPathComponent traps on "." here.)
    package static func directory(of path: String) -> String? {
        path.lastIndex(of: "/").map { String(path[..<$0]).isEmpty ? "/" : String(path[..<$0]) }
    }
}
