import Foundation
import GRDB
@testable import HooklineCore
@testable import HooklineSQLite
import Testing

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

    /// The pool turns its writer to WAL after the connection is prepared, and with it to
    /// `synchronous = NORMAL`: a commit would then reach the disk only at the next checkpoint, and
    /// a power cut could lose an event already answered 202. Every commit must be FULL (2).
    @Test func everyCommitIsSyncedToDisk() throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let writer = try fixture.store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(writer == 2)
        try fixture.store.close()
        let reopened = try SQLiteStore(path: fixture.path, mode: .mustExist)
        defer { try? reopened.close() }
        #expect(try reopened.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
    }

    /// The statements written for every delivery build no temporary B-tree (a CHECK with an IN list
    /// of three or more values did, for every row), and the constraints still refuse what they did.
    @Test func deliveryWritesBuildNoTemporaryTablesAndConstraintsStillHold() throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let statements = [
            "UPDATE delivery SET status = 'sending', lease_until = 1, lease_owner = 'o', updated_at = 1 WHERE id = 'd'",
            "UPDATE delivery SET status = 'succeeded', attempts = attempts + 1, next_attempt_at = NULL, updated_at = 1 WHERE id = 'd'",
            """
            INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code)
            VALUES ('d', 'e', 1, 'scheduled', 1, 1, 200)
            """,
            "UPDATE breaker SET state = 'open', updated_at = 1 WHERE endpoint_id = 'e'",
        ]
        try fixture.store.pool.write { db in
            for sql in statements {
                let opcodes = try Row.fetchAll(db, sql: "EXPLAIN " + sql).map { $0["opcode"] as String }
                #expect(opcodes.contains("Halt"))
                #expect(!opcodes.contains("OpenEphemeral"), "\(sql)")
            }
        }
        let refused = [
            "INSERT INTO breaker (endpoint_id, state, updated_at) VALUES ('e', 'ajar', 1)",
            "UPDATE delivery SET status = 'lost' WHERE id = 'd'",
            "INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms) VALUES ('d', 'e', 1, 'whim', 1, 1)",
        ]
        try fixture.store.pool.writeWithoutTransaction { db in
            // Rows without parents, so that only the CHECK constraints can refuse a statement.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "INSERT INTO delivery (id, event_id, endpoint_id, status, created_at, updated_at) VALUES ('d', 'v', 'e', 'pending', 1, 1)")
            for sql in refused {
                do {
                    try db.execute(sql: sql)
                    Issue.record("accepted: \(sql)")
                } catch let error as DatabaseError {
                    #expect(error.extendedResultCode == .SQLITE_CONSTRAINT_CHECK, "\(sql): \(error)")
                }
            }
            try db.execute(sql: "DELETE FROM delivery WHERE id = 'd'")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
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
        let migrator = SQLiteStore.migrator(secrets: reopened.secrets)
        let applied = try await reopened.pool.read { db in try migrator.appliedIdentifiers(db) }
        #expect(applied == Set(migrator.migrations))
    }

    /// A database of the last schema before tenants (v7), with an endpoint and an event written by
    /// that schema's columns, opens under `default` and works as before.
    @Test func aDatabaseFromBeforeTenantsMigratesUnderTheDefaultTenant() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("old.db")
        let secrets = try SecretBox.forDatabase(at: path, environmentKey: nil, mayCreate: true)
        do {
            let queue = try DatabaseQueue(path: path)
            try await queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA application_id = \(SQLiteStore.applicationID)") }
            let migrator = SQLiteStore.migrator(secrets: secrets)
            try migrator.migrate(queue, upTo: "v7: dispatch cost grows with work, not with endpoints")
            try await queue.write { db in
                #expect(try !db.tableExists("tenant"))
                try db.execute(sql: """
                    INSERT INTO endpoint (id, url, description, secret, enabled, event_types, created_at, updated_at)
                    VALUES ('ep_01KOLDENDPOINT000000000000', 'https://old.example.com/hook', '', ?, 1, '*', 1000, 1000)
                    """, arguments: [try secrets.seal("an-old-secret-of-24-chars-or-more", endpointID: "ep_01KOLDENDPOINT000000000000")])
                try db.execute(sql: "INSERT INTO event (id, type, payload, created_at) VALUES ('evt_01KOLDEVENT0000000000000000', 'case.created', x'7b7d', 1000)")
            }
            try queue.close()
        }
        let store = try SQLiteStore(path: path, mode: .mustExist)
        defer { try? store.close() }
        let endpoint = try #require(try await store.endpoint(id: "ep_01KOLDENDPOINT000000000000"))
        #expect(endpoint.tenant == Tenant.defaultID && endpoint.headers.isEmpty && endpoint.secret == "an-old-secret-of-24-chars-or-more")
        #expect(try await store.event(id: "evt_01KOLDEVENT0000000000000000")?.event.tenant == Tenant.defaultID)
        #expect(try await store.tenants(after: nil, limit: 10).map(\.id) == [Tenant.defaultID])
        // An event given no tenant still reaches the old endpoint.
        let operations = Operations(store: store, actor: .cli)
        let emitted = try await operations.emit(type: "case.created", data: try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData))
        #expect(emitted.summary.deliveries == 1)
    }

    @Test func theQueriesOfTheDispatcherAndConsoleUseTheirIndexes() throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        func plan(_ sql: String) throws -> String {
            try fixture.store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; ")
            }
        }
        #expect(try plan("SELECT id FROM delivery WHERE endpoint_id = 'ep_x' AND status = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at LIMIT 10").contains("delivery_due_by_endpoint"))
        #expect(try plan("SELECT min(next_attempt_at) FROM delivery WHERE endpoint_id = 'ep_x' AND status = 'pending'").contains("delivery_due_by_endpoint"))
        // The claim's walk over the endpoints with pending work: one seek a step, whatever the endpoints.
        let walk = try plan("SELECT endpoint_id, next_attempt_at FROM delivery WHERE status = 'pending' AND endpoint_id > 'ep_x' ORDER BY endpoint_id, next_attempt_at LIMIT 1")
        #expect(walk.contains("delivery_due_by_endpoint") && !walk.contains("TEMP B-TREE"), "\(walk)")
        #expect(try plan("SELECT id, endpoint_id FROM delivery WHERE status = 'sending' AND lease_until < 5").contains("delivery_leased"))
        #expect(try plan("SELECT endpoint_id FROM breaker WHERE state != 'closed'").contains("breaker_not_closed"))
        #expect(try plan("SELECT id FROM endpoint WHERE updated_at >= 5 ORDER BY updated_at, id").contains("endpoint_by_updated"))
        let endpointSending = try plan("SELECT id FROM delivery WHERE endpoint_id = 'ep_x' AND status = 'sending' AND lease_until < 5")
        #expect(endpointSending.contains("USING INDEX") && !endpointSending.contains("SCAN"), "\(endpointSending)")
        // An endpoint's failed deliveries, newest first (the console, recover --since).
        let endpointFailed = try plan("SELECT id FROM delivery WHERE endpoint_id = 'ep_x' AND status = 'failed' AND updated_at >= 5 ORDER BY updated_at DESC LIMIT 50")
        #expect(endpointFailed.contains("delivery_failed_by_endpoint") && !endpointFailed.contains("TEMP B-TREE"), "\(endpointFailed)")
        // No index holds a delivery's status beside columns that every claim and record change.
        let indexes = try fixture.store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'delivery' AND sql IS NOT NULL")
        }
        #expect(!indexes.contains { $0.contains("status, updated_at") }, "\(indexes)")
        #expect(try plan("SELECT id FROM event ORDER BY created_at DESC, id DESC LIMIT 50").contains("event_by_created"))
        #expect(try plan("SELECT id FROM delivery WHERE status = 'failed' ORDER BY updated_at DESC LIMIT 50").contains("delivery_failed"))
        // Fan-out reads only the event's tenant's endpoints; tenant listings seek to the tenant.
        let fanOut = try plan("SELECT id, enabled, event_types FROM endpoint WHERE tenant = 'acme' ORDER BY id")
        #expect(fanOut.contains("endpoint_by_tenant") && !fanOut.contains("TEMP B-TREE"), "\(fanOut)")
        let tenantEvents = try plan("SELECT id FROM event e WHERE e.tenant = 'acme' ORDER BY e.created_at DESC, e.id DESC LIMIT 50")
        #expect(tenantEvents.contains("event_by_tenant") && !tenantEvents.contains("TEMP B-TREE"), "\(tenantEvents)")
        // A page of one endpoint's deliveries is a seek; a tenant's, walked in id order, sorts nothing.
        let endpointPage = try plan("SELECT id FROM delivery WHERE endpoint_id = 'ep_x' AND id < 'dlv_z' ORDER BY id DESC LIMIT 100")
        #expect(endpointPage.contains("delivery_by_endpoint_id") && !endpointPage.contains("TEMP B-TREE"), "\(endpointPage)")
        let tenantWalk = try plan("SELECT id FROM delivery WHERE +endpoint_id IN (SELECT id FROM endpoint WHERE tenant = 'acme') ORDER BY id DESC LIMIT 100")
        #expect(!tenantWalk.contains("TEMP B-TREE"), "\(tenantWalk)")
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
    /// The counts kept by each transaction against a real count, after every kind of change.
    func expectExact(_ fixture: StoreFixture) async throws {
        let kept = try await fixture.store.deliveryCounts()
        let real = try await fixture.store.pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT status, count(*) FROM delivery GROUP BY status").map { ($0[0] as String, $0[1] as Int) })
        }
        #expect(kept == DeliveryCounts(pending: real["pending"] ?? 0, failed: real["failed"] ?? 0, held: real["held"] ?? 0))
        let perEndpoint = try await fixture.store.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.endpoint_id, d.status, count(*) AS real, c.n FROM delivery d
                LEFT JOIN delivery_count c ON c.endpoint_id = d.endpoint_id AND c.status = d.status
                GROUP BY d.endpoint_id, d.status
                """).filter { ($0["real"] as Int) != ($0["n"] as Int? ?? -1) }.map { "\($0[0] as String) \($0[1] as String): \($0[2] as Int) vs \($0[3] as Int? ?? -1)" }
        }
        #expect(perEndpoint.isEmpty, "per endpoint and status: \(perEndpoint)")
        for status in DeliveryStatus.allCases {
            #expect(try await fixture.store.countDeliveries(status: status, endpointID: nil) == (real[status.rawValue] ?? 0), "\(status)")
        }
    }

    @Test func countsStayExactThroughAttemptsReleasesRecoveryAndRedelivery() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let a = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        let b = try await fixture.operations.addEndpoint(url: "https://b.example.com")
        for _ in 0..<6 { _ = try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created")) }
        let now = fixture.clock.now()
        let claimed = try await fixture.store.claim(
            [ClaimRequest(endpointID: a.id, limit: 6), ClaimRequest(endpointID: b.id, limit: 3)], now: now,
            leaseUntil: now.addingTimeInterval(60), owner: "t")
        try await expectExact(fixture)
        // a: two succeed, one fails for good, one is retried; two are given back.
        let planner = DeliveryPlanner(retry: RetryPolicy(schedule: [0, 60]))
        func result(_ delivery: ClaimedDelivery, _ status: Int) -> AttemptResult {
            AttemptClassifier.result(
                for: delivery, outcome: TransportOutcome(statusCode: status, durationMs: 5), startedAt: now, finishedAt: now, random: 0)
        }
        let forA = claimed.filter { $0.endpointID == a.id }
        var exhausted = forA[2]
        exhausted.attempts = 1
        _ = try await fixture.store.record(
            [result(forA[0], 200), result(forA[1], 200), result(exhausted, 500), result(forA[3], 500)],
            planner: planner, owner: "t", at: now)
        try await expectExact(fixture)
        #expect(try await fixture.store.deliveryCounts().failed == 1)
        try await fixture.store.release([forA[4].id], nextAttemptAt: now, owner: "t")
        _ = try await fixture.operations.disableEndpoint(id: a.id)
        try await fixture.store.release([forA[5].id], nextAttemptAt: now, owner: "t")
        try await expectExact(fixture)
        #expect(try await fixture.store.countDeliveries(status: .held, endpointID: a.id) == 3, "pending and given-back deliveries of a disabled endpoint are held")
        // b's three leases expire.
        #expect(try await fixture.store.recoverExpiredLeases(now: now.addingTimeInterval(120)) == 3)
        try await expectExact(fixture)
        _ = try await fixture.operations.redeliver([exhausted.id])
        _ = try await fixture.operations.enableEndpoint(id: a.id)
        try await expectExact(fixture)
        #expect(try await fixture.store.deliveryCounts() == DeliveryCounts(pending: 10, failed: 0, held: 0))
    }

    @Test func aVersion1DatabaseIsMigratedWithItsCountsAndAttempts() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("old.db")
        try Self.makeVersion1Database(at: path)
        let store = try SQLiteStore(path: path)
        defer { try? store.close() }
        #expect(try await store.deliveryCounts() == DeliveryCounts(pending: 1, failed: 1, held: 0))
        #expect(try await store.attempts(deliveryID: "dlv_1").map(\.statusCode) == [500])
        #expect(try await store.endpoint(id: "ep_1")?.secret == "s", "the plain secret of version 1 is sealed and opens")
        let sealed = try await store.pool.read { db in try String.fetchOne(db, sql: "SELECT secret FROM endpoint WHERE id = 'ep_1'") }
        #expect(sealed?.hasPrefix("enc1:") == true)
        let problems = try await store.pool.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }
        #expect(problems.isEmpty)
        try await store.pool.write { db in try db.execute(sql: "DELETE FROM event WHERE id = 'evt_1'") }
        #expect(try await store.attempts(deliveryID: "dlv_1").isEmpty, "deleting an event still cascades to its deliveries and attempts")
    }

    /// A database as version 1 of the schema left it, with two deliveries and an attempt.
    static func makeVersion1Database(at path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator(secrets: SecretBox(keyBytes: Array(repeating: 1, count: 32), source: "test")).migrate(queue, upTo: "v1: endpoints, events, deliveries, attempts, breakers, audit")
        try queue.write { db in
            try db.execute(sql: """
                PRAGMA application_id = \(SQLiteStore.applicationID);
                INSERT INTO endpoint (id, url, secret, created_at, updated_at) VALUES ('ep_1', 'https://a.example.com', 's', 1, 1);
                INSERT INTO event (id, type, payload, created_at) VALUES ('evt_1', 'case.created', x'7b7d', 1), ('evt_2', 'case.created', x'7b7d', 2);
                INSERT INTO delivery (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
                    VALUES ('dlv_1', 'evt_1', 'ep_1', 'failed', NULL, 1, 1), ('dlv_2', 'evt_2', 'ep_1', 'pending', 5, 2, 2);
                INSERT INTO attempt (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, status_code)
                    VALUES ('dlv_1', 'ep_1', 1, 'scheduled', 1, 10, 500);
                """)
        }
        try queue.close()
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
