import Foundation
import GRDB
@testable import HooklineCore
@testable import HooklineSQLite
import HooklineTools
import Testing

/// Pruning: what goes, what stays, the counts kept, the space given back, and dry runs.
@Suite struct RetentionTests {
    /// Deliveries by status, counted for real.
    func statusCounts(_ store: SQLiteStore) async throws -> [String: Int] {
        try await store.pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT status, count(*) FROM delivery GROUP BY status").map { ($0[0] as String, $0[1] as Int) })
        }
    }

    func tableSizes(_ store: SQLiteStore) async throws -> [Int] {
        try await store.pool.read { db in
            try ["event", "delivery", "attempt", "test_attempt", "delivery_count"].map { try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? 0 }
        }
    }

    @Test func pruningKeepsEveryUnfinishedDeliveryAndGivesSpaceBack() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        // 4,000 events over 30 days to 3 endpoints: about 97 % succeeded, 1 % each failed, pending, held.
        _ = try await fixture.store.generateHistory(events: 4000, endpoints: 3, window: 30 * 86_400)
        let before = try await statusCounts(fixture.store)
        let sizeBefore = try await fixture.store.consoleFrame(eventsLimit: 1, failedLimit: 1, since: Date()).storage
        // The synthetic history is dated from the real clock.
        let operations = Operations(store: fixture.store, actor: .cli)
        let report = try await operations.prune(olderThan: 15 * 86_400, stepSize: 300)

        let after = try await statusCounts(fixture.store)
        for status in ["failed", "pending", "held"] {
            #expect(after[status] == before[status], "every \(status) delivery is kept")
        }
        #expect(report.counts.events > 1500 && report.counts.events < 2000, "about half the events: \(report.counts.events)")
        #expect(report.counts.deliveries == report.counts.events * 3)
        #expect(after["succeeded"] == before["succeeded"]! - report.counts.deliveries)
        #expect(report.counts.keptEvents > 0, "old events with unfinished deliveries were looked at and kept")
        #expect(report.steps > 1, "done in several transactions")
        // Nothing left that the rule allowed to go.
        let cutoff = Timestamp.milliseconds(report.rule.cutoff)
        let leftOver = try await fixture.store.pool.read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM event e WHERE e.created_at < ?
                AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_id = e.id AND d.status <> 'succeeded')
                """, arguments: [cutoff]) ?? -1
        }
        #expect(leftOver == 0)
        // No attempt lost its delivery; the kept counts still match a real count.
        let orphans = try await fixture.store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM attempt a WHERE NOT EXISTS (SELECT 1 FROM delivery d WHERE d.id = a.delivery_id)") ?? -1
        }
        #expect(orphans == 0)
        try await DeliveryCountTests().expectExact(fixture)
        // The freed pages went back to the file system.
        let sizeAfter = try await fixture.store.consoleFrame(eventsLimit: 1, failedLimit: 1, since: Date()).storage
        #expect((report.freedBytes ?? 0) > 0)
        #expect(sizeAfter.bytes < sizeBefore.bytes - (report.freedBytes ?? 0) / 2)
        let audit = try await fixture.store.auditEntries(limit: 1)
        #expect(audit.first?.action == "prune")
    }

    @Test func aDryRunCountsWhatARealRunRemovesAndChangesNothing() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        _ = try await fixture.store.generateHistory(events: 1200, endpoints: 2, window: 10 * 86_400)
        let operations = Operations(store: fixture.store, actor: .cli)
        let tablesBefore = try await tableSizes(fixture.store)
        let auditBefore = try await fixture.store.auditEntries(limit: 100).count
        let dry = try await operations.prune(olderThan: 3 * 86_400, dryRun: true, stepSize: 200)
        #expect(try await tableSizes(fixture.store) == tablesBefore, "a dry run changes no table")
        #expect(try await fixture.store.auditEntries(limit: 100).count == auditBefore)
        #expect(dry.dryRun)
        #expect(dry.freedBytes == 0)
        #expect(dry.counts.events > 0)

        let real = try await operations.prune(olderThan: 3 * 86_400, stepSize: 200)
        #expect(real.counts.events == dry.counts.events)
        #expect(real.counts.deliveries == dry.counts.deliveries)
        #expect(real.counts.attempts == dry.counts.attempts)
        #expect(real.counts.keptEvents == dry.counts.keptEvents)
        let tablesAfter = try await tableSizes(fixture.store)
        #expect(tablesAfter[0] == tablesBefore[0] - real.counts.events)
        #expect(tablesAfter[1] == tablesBefore[1] - real.counts.deliveries)
        #expect(tablesAfter[2] == tablesBefore[2] - real.counts.attempts)
    }

    @Test func failedDeliveriesGoOnlyWhenAskedAndHeldOrPendingNever() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let a = try await fixture.operations.addEndpoint(url: "https://a.example.com")
        let b = try await fixture.operations.addEndpoint(url: "https://b.example.com")
        var emitted: [String] = []
        for _ in 0..<4 { emitted.append(try await fixture.operations.emit(type: "case.created", data: Examples.data("case.created")).summary.event.id) }
        let ids = emitted
        // Event 0: both succeeded. Event 1: one failed. Event 2: one held. Event 3: one pending.
        try await fixture.store.pool.write { db in
            try db.execute(sql: "UPDATE delivery SET status = 'succeeded' WHERE endpoint_id = ?", arguments: [a.id])
            try db.execute(sql: "UPDATE delivery SET status = 'succeeded' WHERE event_id = ? AND endpoint_id = ?", arguments: [ids[0], b.id])
            try db.execute(sql: "UPDATE delivery SET status = 'failed' WHERE event_id = ? AND endpoint_id = ?", arguments: [ids[1], b.id])
            try db.execute(sql: "UPDATE delivery SET status = 'held' WHERE event_id = ? AND endpoint_id = ?", arguments: [ids[2], b.id])
            try DeliveryCountChanges.recount(in: db)
        }
        // A test send from the same time goes with the old events.
        try await fixture.store.recordTestSend(
            TestSend(endpointID: a.id, eventID: "evt_test", eventType: "case.created", startedAt: fixture.clock.now(), durationMs: 5, statusCode: 200),
            audit: AuditEntry(at: fixture.clock.now(), actor: .cli, action: "endpoint.test", targetIDs: [a.id]))
        fixture.clock.advance(by: 2 * 86_400)

        let first = try await fixture.operations.prune(olderThan: 86_400)
        #expect(first.counts.events == 1)
        #expect(first.counts.deliveries == 2)
        #expect(first.counts.testSends == 1)
        #expect(first.counts.keptEvents == 3)
        #expect(try await fixture.store.event(id: ids[0]) == nil)

        let second = try await fixture.operations.prune(olderThan: 86_400, includeFailed: true)
        #expect(second.counts.events == 1)
        #expect(try await fixture.store.event(id: ids[1]) == nil)
        #expect(second.counts.keptEvents == 2, "held and pending stay even with --include-failed")
        #expect(try await fixture.store.event(id: ids[2]) != nil)
        #expect(try await fixture.store.event(id: ids[3]) != nil)
        try await DeliveryCountTests().expectExact(fixture)

        // Younger than the age given: nothing goes.
        let young = try await fixture.operations.prune(olderThan: 3 * 86_400, includeFailed: true)
        #expect(!young.counts.removedAnything)
        await #expect(throws: HooklineError.self) { try await fixture.operations.prune(olderThan: -1) }
    }

    @Test func aDatabaseFromBeforeVersion5ReusesSpaceInstead() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.file("hookline.db"))
        #expect(try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") } == 2, "new files give pages back")
        try store.close()
        // A file without auto-vacuum (as every file made before schema v5) says it can only reuse.
        let legacy = try SQLiteStore(path: directory.file("legacy.db"))
        try await legacy.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA auto_vacuum = NONE; VACUUM")
        }
        #expect(try await legacy.reclaimSpace(maximumBytes: 1 << 20) == nil)
        try legacy.close()
    }
}
