import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func redact(
        _ scope: RedactionScope, after cursor: PruneCursor?, limit: Int, at now: Date, audit: AuditEntry
    ) async throws(HooklineError) -> RedactionStep {
        let nowMs = Self.millis(now)
        return try await write { db in
            let candidates: [RedactionCandidate]
            var requested: [String]?
            switch scope {
            case .events(let ids):
                requested = ids
                let select = try db.cachedStatement(sql: "SELECT id, type, payload, created_at, redacted_at IS NOT NULL FROM event WHERE id = ?")
                candidates = try ids.compactMap { id in try Row.fetchOne(select, arguments: [id]).map(Self.redactionCandidate) }
            case .tenant(let tenant):
                var arguments: StatementArguments = [tenant]
                var after = ""
                if let cursor {
                    after = " AND (created_at, id) > (?, ?)"
                    arguments += [Self.millis(cursor.createdAt), cursor.eventID]
                }
                arguments += [limit]
                candidates = try Row.fetchAll(
                    db, sql: """
                        SELECT id, type, payload, created_at, redacted_at IS NOT NULL FROM event INDEXED BY event_by_tenant
                        WHERE tenant = ?\(after) ORDER BY created_at, id LIMIT ?
                        """,
                    arguments: arguments
                ).map(Self.redactionCandidate)
            }
            let fresh = candidates.filter { !$0.redacted }.map(\.id)
            let deliveries = try db.cachedStatement(sql: "SELECT id, endpoint_id, status FROM delivery WHERE event_id = ?")
            var unfinished: [UnfinishedDelivery] = []
            for id in fresh {
                for row in try Row.fetchAll(deliveries, arguments: [id]) {
                    unfinished.append(UnfinishedDelivery(id: row[0], endpointID: row[1], status: try DeliveryStatus(stored: row[2])))
                }
            }
            let plan = RedactionPlan(requested: requested, candidates: candidates, unfinished: unfinished, audit: audit)
            var step = plan.step
            let rewrite = try db.cachedStatement(sql: "UPDATE event SET payload = ?, redacted_at = ? WHERE id = ?")
            let excerpts = try db.cachedStatement(sql: """
                UPDATE attempt SET response_excerpt = ?
                WHERE delivery_id IN (SELECT id FROM delivery WHERE event_id = ?) AND response_excerpt IS NOT NULL
                """)
            for change in plan.rewrites {
                try rewrite.execute(arguments: [Data(change.payload), nowMs, change.eventID])
                try excerpts.execute(arguments: [RedactionPlan.marker, change.eventID])
                step.clearedResponses += db.changesCount
            }
            let cancel = try db.cachedStatement(sql: """
                UPDATE delivery SET status = 'failed', next_attempt_at = NULL, lease_until = NULL, lease_owner = NULL,
                                    last_error = ?, updated_at = ?
                WHERE id = ?
                """)
            for id in plan.cancel { try cancel.execute(arguments: [RedactionPlan.cancelledError, nowMs, id]) }
            try plan.counts.save(in: db)
            if case .tenant(let tenant) = scope {
                if cursor == nil {
                    try db.execute(
                        sql: """
                            UPDATE test_attempt SET response_excerpt = ?
                            WHERE endpoint_id IN (SELECT id FROM endpoint WHERE tenant = ?) AND response_excerpt IS NOT NULL
                            """,
                        arguments: [RedactionPlan.marker, tenant])
                    step.clearedResponses += db.changesCount
                }
                if candidates.count == limit, let last = candidates.last {
                    step.next = PruneCursor(createdAt: last.createdAt, eventID: last.id)
                }
            }
            if let entry = plan.audit { try Self.insertAudit(entry, in: db) }
            return step
        }
    }

    static func redactionCandidate(_ row: Row) -> RedactionCandidate {
        let payload: Data = row[2]
        return RedactionCandidate(id: row[0], type: row[1], payload: [UInt8](payload), createdAt: date(row[3] as Int64), redacted: row[4])
    }
}
