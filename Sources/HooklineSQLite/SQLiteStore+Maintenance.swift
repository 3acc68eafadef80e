import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    // MARK: Test sends

    public func recordTestSend(_ send: TestSend, audit: AuditEntry) async throws(HooklineError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM endpoint WHERE id = ?", arguments: [send.endpointID]) != nil else {
                throw HooklineError.notFound(kind: "endpoint", id: send.endpointID)
            }
            try db.execute(
                sql: """
                    INSERT INTO test_attempt (endpoint_id, event_id, event_type, started_at, duration_ms, status_code,
                                              error_class, error_message, response_excerpt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [send.endpointID, send.eventID, send.eventType, Self.millis(send.startedAt), send.durationMs,
                            send.statusCode, send.errorClass, send.errorMessage, send.responseExcerpt])
            try Self.insertAudit(audit, in: db)
        }
    }

    public func testSends(endpointID: String, limit: Int) async throws(HooklineError) -> [TestSend] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT endpoint_id, event_id, event_type, started_at, duration_ms, status_code, error_class, error_message,
                           response_excerpt
                    FROM test_attempt WHERE endpoint_id = ? ORDER BY started_at DESC, id DESC LIMIT ?
                    """,
                arguments: [endpointID, limit]
            ).map {
                TestSend(
                    endpointID: $0["endpoint_id"], eventID: $0["event_id"], eventType: $0["event_type"],
                    startedAt: Self.date($0["started_at"] as Int64), durationMs: $0["duration_ms"], statusCode: $0["status_code"],
                    errorClass: $0["error_class"], errorMessage: $0["error_message"], responseExcerpt: $0["response_excerpt"])
            }
        }
    }

    // MARK: Retention

    public func prune(_ rule: PruneRule, after cursor: PruneCursor?, limit: Int, dryRun: Bool) async throws(HooklineError) -> PruneStep {
        let cutoff = Self.millis(rule.cutoff)
        let removable = rule.removableStatuses.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let body: @Sendable (Database) throws -> PruneStep = { db in
            var counts = PruneCounts()
            if cursor == nil {
                // Test sends are few; the first step of a pass takes them all.
                counts.testSends = try Int.fetchOne(db, sql: "SELECT count(*) FROM test_attempt WHERE started_at < ?", arguments: [cutoff]) ?? 0
                if !dryRun && counts.testSends > 0 {
                    try db.execute(sql: "DELETE FROM test_attempt WHERE started_at < ?", arguments: [cutoff])
                }
            }
            // Oldest first, from where the last step stopped: events kept for unfinished work are
            // looked at once per pass, not once per step.
            var arguments: StatementArguments = [cutoff]
            var after = ""
            if let cursor {
                after = " AND (created_at, id) > (?, ?)"
                arguments += [Self.millis(cursor.createdAt), cursor.eventID]
            }
            arguments += [limit]
            let scanned = try Row.fetchAll(
                db, sql: "SELECT id, created_at FROM event WHERE created_at < ?\(after) ORDER BY created_at, id LIMIT ?",
                arguments: arguments
            ).map { (id: $0[0] as String, createdAt: $0[1] as Int64) }
            guard let last = scanned.last else { return PruneStep(counts: counts, next: nil) }
            let next = scanned.count < limit ? nil : PruneCursor(createdAt: Self.date(last.createdAt), eventID: last.id)
            let ids = scanned.map(\.id)
            let list = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            let blocked = Set(try String.fetchAll(
                db, sql: "SELECT DISTINCT event_id FROM delivery WHERE event_id IN (\(list)) AND status NOT IN (\(removable))",
                arguments: StatementArguments(ids)))
            let doomed = ids.filter { !blocked.contains($0) }
            counts.keptEvents = blocked.count
            counts.events = doomed.count
            guard !doomed.isEmpty else { return PruneStep(counts: counts, next: next) }
            let doomedList = Array(repeating: "?", count: doomed.count).joined(separator: ", ")
            let doomedArguments = StatementArguments(doomed)
            var changes = DeliveryCountChanges()
            for row in try Row.fetchAll(
                db, sql: "SELECT endpoint_id, status, count(*) FROM delivery WHERE event_id IN (\(doomedList)) GROUP BY endpoint_id, status",
                arguments: doomedArguments) {
                let n: Int = row[2]
                counts.deliveries += n
                if let status = DeliveryStatus(rawValue: row[1]) { changes.add(row[0], status, -n) }
            }
            counts.attempts = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM attempt WHERE delivery_id IN (SELECT id FROM delivery WHERE event_id IN (\(doomedList)))",
                arguments: doomedArguments) ?? 0
            if !dryRun {
                // Deleting the events removes their deliveries and those deliveries' attempts (ON DELETE CASCADE).
                try db.execute(sql: "DELETE FROM event WHERE id IN (\(doomedList))", arguments: doomedArguments)
                try changes.save(in: db)
            }
            return PruneStep(counts: counts, next: next)
        }
        return dryRun ? try await read(body) : try await write(body)
    }

    public func reclaimSpace(maximumBytes: Int64) async throws(HooklineError) -> ReclaimStep? {
        do {
            return try await pool.writeWithoutTransaction { db -> ReclaimStep? in
                let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                // Only a database created with auto_vacuum = INCREMENTAL (every one since schema v5)
                // can give pages back; older files keep them for reuse.
                guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2 else { return nil }
                let before = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                // Each page given back moves a page from the end of the file: a bounded number per
                // transaction keeps the writer's lock (and the write-ahead log) short.
                try db.execute(sql: "PRAGMA incremental_vacuum(\(max(1, maximumBytes / pageSize)))")
                let after = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                if free == 0 {
                    // Copies the shrunken pages into the file (and truncates it) unless readers are
                    // in the way; a busy dispatcher is never made to wait for it.
                    try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
                }
                return ReclaimStep(freedBytes: max(0, before - after) * pageSize, remainingBytes: free * pageSize)
            }
        } catch {
            throw Self.map(error, path: location)
        }
    }

    public func recordAudit(_ entry: AuditEntry) async throws(HooklineError) {
        try await write { db in try Self.insertAudit(entry, in: db) }
    }

    static func fetchStorage(_ db: Database) throws -> StorageSize {
        let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        return StorageSize(bytes: pages * pageSize, reusableBytes: free * pageSize)
    }
}
