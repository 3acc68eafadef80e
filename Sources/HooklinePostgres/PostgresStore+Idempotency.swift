import Foundation
import HooklineCore
import PostgresNIO

extension PostgresStore {
    public func claimIdempotencyKey(
        scope: String, key: String, requestHash: String, at: Date, staleBefore: Date
    ) async throws(HooklineError) -> IdempotencyClaim {
        let logger = self.logger
        return try await write { connection in
            let inserted = try await Self.count(connection, logger, """
                INSERT INTO idempotency_key (tenant, key, request_hash, created_at)
                VALUES (\(scope), \(key), \(requestHash), \(Self.millis(at)))
                ON CONFLICT (tenant, key) DO NOTHING RETURNING 1
                """)
            if inserted == 1 { return .claimed }
            guard let row = try await connection.rows("""
                SELECT request_hash, resource_id, created_at FROM idempotency_key WHERE tenant = \(scope) AND key = \(key) FOR UPDATE
                """, logger).first else {
                // Given back between the two statements: the caller may send it again.
                throw HooklineError.conflict("A request with the Idempotency-Key '\(key)' is still under way; retry it in a moment.")
            }
            let resourceID = try row.get(1, as: String?.self)
            guard resourceID == nil, try row.get(2, as: Int64.self) < Self.millis(staleBefore) else {
                return .taken(requestHash: try row.get(0, as: String.self), resourceID: resourceID)
            }
            try await connection.run("""
                UPDATE idempotency_key SET request_hash = \(requestHash), created_at = \(Self.millis(at)) WHERE tenant = \(scope) AND key = \(key)
                """, logger)
            return .claimed
        }
    }

    public func completeIdempotencyKey(scope: String, key: String, resourceID: String) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in
            try await connection.run(
                "UPDATE idempotency_key SET resource_id = \(resourceID) WHERE tenant = \(scope) AND key = \(key)", logger)
        }
    }

    public func releaseIdempotencyKey(scope: String, key: String) async throws(HooklineError) {
        let logger = self.logger
        try await write { connection in
            try await connection.run(
                "DELETE FROM idempotency_key WHERE tenant = \(scope) AND key = \(key) AND resource_id IS NULL", logger)
        }
    }
}
