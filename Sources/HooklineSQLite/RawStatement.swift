import Foundation
import GRDB
import GRDBSQLite

/// A cached GRDB statement driven through SQLite's C interface, for the few statements the
/// dispatcher runs once per delivery (reading a lease, inserting an attempt, updating a delivery,
/// claiming and reading one).
///
/// GRDB's arguments box every value in an existential array and its rows copy every column into
/// `DatabaseValue`s: on the recording path that was about as much time as SQLite's own work.
/// Here values are bound and columns read in place. The statement is reset when the value is
/// made and after each run, so GRDB finds it as it left it; a failure throws the same
/// `DatabaseError` GRDB would.
struct RawStatement {
    private let handle: OpaquePointer
    private let db: Database

    /// SQLite copies a bound text before the call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    init(_ statement: Statement, in db: Database) {
        handle = statement.sqliteStatement
        self.db = db
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds parameter `index` (from 1).
    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: Int?) {
        bind(index, value.map(Int64.init))
    }

    func bind(_ index: Int32, _ value: Bool) {
        sqlite3_bind_int64(handle, index, value ? 1 : 0)
    }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { bytes in
            _ = bytes.withMemoryRebound(to: CChar.self) { text in
                sqlite3_bind_text(handle, index, text.baseAddress, Int32(text.count), Self.transient)
            }
        }
    }

    /// Steps once: whether a row came. After the last row the statement is reset.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            sqlite3_reset(handle)
            return false
        case let code:
            let message = db.lastErrorMessage
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: String(cString: sqlite3_sql(handle)))
        }
    }

    /// Runs a statement that returns no rows, then resets it for the next values.
    func run() throws {
        while try step() {}
        sqlite3_clear_bindings(handle)
    }

    /// Ends a read early (fewer rows wanted than it has).
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Column `index` (from 0) of the current row.
    func int64(_ index: Int32) -> Int64? {
        sqlite3_column_type(handle, index) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, index)
    }

    func int(_ index: Int32) -> Int {
        Int(sqlite3_column_int64(handle, index))
    }

    func bool(_ index: Int32) -> Bool {
        sqlite3_column_int64(handle, index) != 0
    }

    func string(_ index: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, index) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, index))), as: UTF8.self)
    }

    func bytes(_ index: Int32) -> [UInt8] {
        // The pointer, then the length: the order SQLite documents as safe.
        guard let blob = sqlite3_column_blob(handle, index) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_column_bytes(handle, index))))
    }
}
