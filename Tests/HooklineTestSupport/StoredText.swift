import Foundation
import GRDB
import HooklineCore
import HooklinePostgres
import HooklineSQLite
import Logging
import PostgresNIO

/// Looks through every row of every table of a store's database for a piece of text: in SQLite
/// each value (blobs decoded as UTF-8), in PostgreSQL each row as text (bytea shows as hex, so the
/// text's hex form is looked for too). What an erasure test uses to prove the text is gone.
public enum StoredText {
    /// The tables with at least one row that holds `needle`, sorted.
    public static func tables(containing needle: String, in store: any HooklineStore) async throws -> [String] {
        if let sqlite = store as? SQLiteStore {
            return try await sqlite.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                return try tables.filter { table in
                    let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \"\(table)\"")
                    while let row = try rows.next() {
                        for value in row.databaseValues {
                            switch value.storage {
                            case .string(let text) where text.contains(needle): return true
                            case .blob(let data) where String(decoding: data, as: UTF8.self).contains(needle): return true
                            default: continue
                            }
                        }
                    }
                    return false
                }
            }
        }
        guard let postgres = store as? PostgresStore else { throw TestDatabaseError("no table scan for \(type(of: store))") }
        let hex = needle.utf8.map { String(format: "%02x", $0) }.joined()
        var logger = Logger(label: "test.scan")
        logger.logLevel = .critical
        let quiet = logger
        return try await postgres.read { connection in
            let tables = try await connection.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename", quiet
            ).map { try $0.get(0, as: String.self) }
            var found: [String] = []
            for table in tables {
                let sql = "SELECT count(*) FROM \"\(table)\" t WHERE strpos(t::text, '\(needle)') > 0 OR strpos(t::text, '\(hex)') > 0"
                if try await connection.rows(PostgresQuery(unsafeSQL: sql), quiet).first?.get(0, as: Int.self) ?? 0 > 0 { found.append(table) }
            }
            return found
        }
    }
}
