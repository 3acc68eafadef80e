import Foundation

/// The one error type of `HooklineCore`: every case reads as one sentence that names the problem
/// and, where there is one, the fix.
public enum HooklineError: Error, Sendable, Equatable {
    /// The input is not valid JSON; the text says what and where.
    case invalidJSON(String)
    /// An argument or payload is not acceptable; the text is the whole sentence.
    case invalidInput(String)
    /// One field of a payload is missing or wrong; `field` is its dotted path (`data.case.id`).
    case invalidField(field: String, sentence: String)
    /// No record of that kind has that id.
    case notFound(kind: String, id: String)
    /// The directory that should hold the database does not exist.
    case databaseDirectoryMissing(path: String)
    /// The database file exists but does not belong to Hookline.
    case notAHooklineDatabase(path: String, reason: String)
    /// The database was written by a newer Hookline whose schema this build does not know.
    case databaseFromNewerVersion(path: String)
    /// The database is missing where a command only reads it.
    case databaseMissing(path: String)
    /// SQLite failed in a way the user may be able to fix (disk full, permissions, locked).
    case storage(String)
    /// The endpoint secrets were encrypted with another key than the one `source` gave.
    case wrongSecretKey(source: String)
    /// The database's secrets are encrypted and neither `HOOKLINE_SECRET_KEY` nor its key file is there.
    case secretKeyMissing(keyPath: String)
    /// The request conflicts with the current state (for example removing an endpoint with work left).
    case conflict(String)
    /// The database holds a value in `column` that this build does not know (written by a newer version, or by hand).
    case unknownStoredValue(column: String, value: String)
}

extension HooklineError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidJSON(let detail):
            return "The JSON is malformed: \(detail)."
        case .invalidInput(let sentence), .invalidField(_, let sentence):
            return sentence
        case .notFound(let kind, let id):
            return "No \(kind) with id '\(id)' exists."
        case .databaseDirectoryMissing(let path):
            return "The directory of the database path '\(path)' does not exist; create it or name another database."
        case .notAHooklineDatabase(let path, let reason):
            return "'\(path)' is not a Hookline database (\(reason)); name the right database or a new file."
        case .databaseFromNewerVersion(let path):
            return "'\(path)' was written by a newer version of Hookline; upgrade hookline to use it."
        case .databaseMissing(let path):
            return "No Hookline database at '\(path)'; add an endpoint or emit an event to create one, or name another database."
        case .storage(let sentence):
            return sentence
        case .wrongSecretKey(let source):
            return "The endpoint secrets were encrypted with another key than \(source); set \(SecretBox.environmentVariable) to the key that encrypted them, or restore the database's key file."
        case .secretKeyMissing(let keyPath):
            return "The endpoint secrets are encrypted but the key file '\(keyPath)' is missing; restore it, or set \(SecretBox.environmentVariable) to the key."
        case .conflict(let sentence):
            return sentence
        case .unknownStoredValue(let column, let value):
            return "The database holds '\(value)' in \(column), which this version of Hookline does not know; upgrade hookline, or correct the row."
        }
    }
}

extension HooklineError: LocalizedError {
    public var errorDescription: String? { description }
}
