import HooklineCore
import HooklinePostgres
import HooklineSQLite

/// Where a store lives, as `--db` and `HOOKLINE_DB` give it: a `postgres://` URL or an SQLite file path.
public enum StoreLocation {
    /// Whether `location` names a PostgreSQL database.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Opens the store: PostgreSQL for a `postgres://` URL, else the SQLite file (created when
    /// `creating`, else it must exist).
    public static func open(_ location: String, creating: Bool = true) async throws(HooklineError) -> any HooklineStore {
        if isPostgres(location) {
            return try await PostgresStore(url: location)
        }
        return try SQLiteStore(path: location, mode: creating ? .createIfMissing : .mustExist)
    }
}
