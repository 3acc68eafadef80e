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
        #expect(applied == Set(SQLiteStore.migrator.migrations))
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

@Suite struct DeliveryCountTests {
    /// The counts kept by triggers against a real count, after every kind of change.
    func expectExact(_ fixture: StoreFixture) async throws {
        let kept = try await fixture.store.deliveryCounts()
        let real = try await fixture.store.pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT status, count(*) FROM delivery GROUP BY status").map { ($0[0] as String, $0[1] as Int) })
        }
        #expect(kept == DeliveryCounts(pending: real["pending"] ?? 0, failed: real["failed"] ?? 0, held: real["held"] ?? 0))
    }

    @Test func countsStayExactThroughInsertsStatusChangesAndDeletes() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let a = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        let b = try await fixture.operations.addEndpoint(url: "https://b.example.com")
        for _ in 0..<5 { _ = try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created")) }
        try await expectExact(fixture)
        #expect(try await fixture.store.deliveryCounts().pending == 10)
        _ = try await fixture.operations.disableEndpoint(id: a.id)
        try await expectExact(fixture)
        #expect(try await fixture.store.deliveryCounts().held == 5)
        let claimed = try await fixture.store.claim([ClaimRequest(endpointID: b.id, limit: 2)], now: fixture.clock.now(), leaseUntil: fixture.clock.now().addingTimeInterval(60), owner: "t")
        #expect(claimed.count == 2)
        try await expectExact(fixture)
        try await fixture.operations.removeEndpoint(id: a.id, force: true)
        try await expectExact(fixture)
        #expect(try await fixture.store.deliveryCounts() == DeliveryCounts(pending: 3, failed: 0, held: 0))
    }
}
