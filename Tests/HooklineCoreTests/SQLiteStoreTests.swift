import Foundation
import GRDB
import Testing
@testable import HooklineCore

@Suite struct SQLiteStoreTests {
    @Test func newDatabaseIsCreatedWithMode0600InWALWithTheWholeSchema() throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let (journal, tables, applicationID) = try fixture.store.pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
             try Int32.fetchOne(db, sql: "PRAGMA application_id"))
        }
        #expect(journal == "wal")
        #expect(Set(tables).isSuperset(of: ["endpoint", "event", "delivery", "attempt", "breaker", "audit"]))
        #expect(applicationID == SQLiteStore.applicationID)
    }

    @Test func reopeningAnExistingDatabaseKeepsItsDataAndMigratesNothingTwice() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("h.db")
        do {
            let store = try SQLiteStore(path: path)
            let operations = Operations(store: store, actor: .cli)
            _ = try await operations.addEndpoint(url: "https://example.com/hook")
            try store.close()
        }
        let reopened = try SQLiteStore(path: path, mode: .mustExist)
        defer { try? reopened.close() }
        #expect(try await reopened.endpoints().count == 1)
        let applied = try await reopened.pool.read { db in try SQLiteStore.migrator.appliedIdentifiers(db) }
        #expect(applied.count == 1)
    }

    @Test func theQueriesOfTheDispatcherAndConsoleUseTheirIndexes() throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        func plan(_ sql: String) throws -> String {
            try fixture.store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; ")
            }
        }
        #expect(try plan("SELECT id FROM delivery WHERE status = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at LIMIT 10").contains("delivery_due"))
        #expect(try plan("SELECT id FROM delivery WHERE status = 'sending' AND lease_until < 5").contains("delivery_leased"))
        #expect(try plan("SELECT id FROM delivery WHERE endpoint_id = 'ep_x' AND status = 'failed'").contains("delivery_by_endpoint"))
        #expect(try plan("SELECT id FROM event ORDER BY created_at DESC, id DESC LIMIT 50").contains("event_by_created"))
        #expect(try plan("SELECT id FROM delivery WHERE status = 'failed' ORDER BY updated_at DESC LIMIT 50").contains("delivery_failed"))
    }

    @Test func aMissingDirectoryIsNamed() {
        #expect(throws: HooklineError.databaseDirectoryMissing(path: "/nonexistent-hookline-dir/h.db")) {
            try SQLiteStore(path: "/nonexistent-hookline-dir/h.db")
        }
    }

    @Test func aMissingFileIsRefusedWhenItMustExist() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: HooklineError.databaseMissing(path: directory.file("none.db"))) {
            try SQLiteStore(path: directory.file("none.db"), mode: .mustExist)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("none.db")))
    }

    @Test func aFileThatIsNotSQLiteIsRefusedAndLeftAlone() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("notes.txt")
        let content = Data("these are my notes, not a database\n".utf8)
        try content.write(to: URL(fileURLWithPath: path))
        #expect(throws: HooklineError.notAHooklineDatabase(path: path, reason: "it is not an SQLite file")) {
            try SQLiteStore(path: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == content)
    }

    @Test func anotherApplicationsSQLiteDatabaseIsRefusedAndLeftAlone() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("other.db")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY)") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: HooklineError.notAHooklineDatabase(path: path, reason: "it holds 1 tables of another application")) {
            try SQLiteStore(path: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func aDatabaseFromANewerSchemaIsRefused() throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        try fixture.store.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        try fixture.store.close()
        #expect(throws: HooklineError.databaseFromNewerVersion(path: fixture.path)) {
            try SQLiteStore(path: fixture.path)
        }
    }

    @Test func aDirectoryAsDatabasePathIsRefused() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: HooklineError.self) { try SQLiteStore(path: directory.path) }
    }
}
