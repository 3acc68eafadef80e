import Foundation
import HooklineCore
import Logging
import NIOCore
import PostgresNIO

extension PostgresStore {
    public func redact(
        _ scope: RedactionScope, after cursor: PruneCursor?, limit: Int, at now: Date, audit: AuditEntry
    ) async throws(HooklineError) -> RedactionStep {
        let logger = self.logger
        let nowMs = Self.millis(now)
        return try await write { connection in
            let candidates: [RedactionCandidate]
            var requested: [String]?
            // The events are locked first, then all their deliveries (whatever their status, so
            // that a redelivery committed meanwhile is seen once the lock is ours).
            switch scope {
            case .events(let ids):
                requested = ids
                let found = try await connection.rows("""
                    SELECT id, type, payload, created_at, redacted_at IS NOT NULL FROM event WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
                    """, logger).map(Self.redactionCandidate)
                let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                candidates = ids.compactMap { byID[$0] }
            case .tenant(let tenant):
                let afterAt = cursor.map { Self.millis($0.createdAt) } ?? Int64.min
                let afterID = cursor?.eventID ?? ""
                candidates = try await connection.rows("""
                    SELECT id, type, payload, created_at, redacted_at IS NOT NULL FROM event
                    WHERE tenant = \(tenant) AND (created_at, id) > (\(afterAt), \(afterID))
                    ORDER BY created_at, id LIMIT \(limit) FOR UPDATE
                    """, logger).map(Self.redactionCandidate)
            }
            let fresh = candidates.filter { !$0.redacted }.map(\.id)
            let unfinished = fresh.isEmpty ? [] : try await connection.rows("""
                SELECT id, endpoint_id, status FROM delivery WHERE event_id = ANY(\(fresh)) ORDER BY id FOR UPDATE
                """, logger).map {
                UnfinishedDelivery(
                    id: try $0.get(0, as: String.self), endpointID: try $0.get(1, as: String.self),
                    status: try DeliveryStatus(stored: try $0.get(2, as: String.self)))
            }
            let plan = RedactionPlan(requested: requested, candidates: candidates, unfinished: unfinished, audit: audit)
            var step = plan.step
            let marker = RedactionPlan.marker
            for change in plan.rewrites {
                try await connection.run(
                    "UPDATE event SET payload = \(ByteBuffer(bytes: change.payload)), redacted_at = \(nowMs) WHERE id = \(change.eventID)", logger)
            }
            let rewritten = plan.rewrites.map(\.eventID)
            if !rewritten.isEmpty {
                step.clearedResponses += try await connection.rows("""
                    WITH cleared AS (
                        UPDATE attempt SET response_excerpt = \(marker)
                        WHERE delivery_id IN (SELECT id FROM delivery WHERE event_id = ANY(\(rewritten))) AND response_excerpt IS NOT NULL
                        RETURNING 1)
                    SELECT count(*) FROM cleared
                    """, logger).first?.get(0, as: Int.self) ?? 0
            }
            if !plan.cancel.isEmpty {
                try await connection.run("""
                    UPDATE delivery SET status = 'failed', next_attempt_at = NULL, lease_until = NULL, lease_owner = NULL,
                                        last_error = \(RedactionPlan.cancelledError), updated_at = \(nowMs)
                    WHERE id = ANY(\(plan.cancel))
                    """, logger)
            }
            try await plan.counts.save(on: connection, logger)
            if case .tenant(let tenant) = scope {
                if cursor == nil {
                    step.clearedResponses += try await connection.rows("""
                        WITH cleared AS (
                            UPDATE test_attempt SET response_excerpt = \(marker)
                            WHERE endpoint_id IN (SELECT id FROM endpoint WHERE tenant = \(tenant)) AND response_excerpt IS NOT NULL
                            RETURNING 1)
                        SELECT count(*) FROM cleared
                        """, logger).first?.get(0, as: Int.self) ?? 0
                }
                if candidates.count == limit, let last = candidates.last {
                    step.next = PruneCursor(createdAt: last.createdAt, eventID: last.id)
                }
            }
            if let entry = plan.audit { try await Self.insertAudit(entry, on: connection, logger) }
            return step
        }
    }

    static func redactionCandidate(_ row: PostgresRandomAccessRow) throws -> RedactionCandidate {
        let payload = try row.get(2, as: ByteBuffer.self)
        return RedactionCandidate(
            id: try row.get(0), type: try row.get(1), payload: Array(payload.readableBytesView),
            createdAt: date(try row.get(3, as: Int64.self)), redacted: try row.get(4, as: Bool.self))
    }
}
