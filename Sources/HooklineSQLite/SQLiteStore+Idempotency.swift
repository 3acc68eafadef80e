import Foundation
import GRDB
import HooklineCore

extension SQLiteStore {
    public func claimIdempotencyKey(
        scope: String, key: String, requestHash: String, at: Date, staleBefore: Date
    ) async throws(HooklineError) -> IdempotencyClaim {
        try await write { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT request_hash, resource_id, created_at FROM idempotency_key WHERE tenant = ? AND key = ?", arguments: [scope, key])
            if let row {
                let resourceID: String? = row[1]
                let createdAt: Int64 = row[2]
                guard resourceID == nil, createdAt < Self.millis(staleBefore) else {
                    return .taken(requestHash: row[0], resourceID: resourceID)
                }
                try db.execute(
                    sql: "UPDATE idempotency_key SET request_hash = ?, created_at = ? WHERE tenant = ? AND key = ?",
                    arguments: [requestHash, Self.millis(at), scope, key])
                return .claimed
            }
            try db.execute(
                sql: "INSERT INTO idempotency_key (tenant, key, request_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [scope, key, requestHash, Self.millis(at)])
            return .claimed
        }
    }

    public func completeIdempotencyKey(scope: String, key: String, resourceID: String) async throws(HooklineError) {
        try await write { db in
            try db.execute(sql: "UPDATE idempotency_key SET resource_id = ? WHERE tenant = ? AND key = ?", arguments: [resourceID, scope, key])
        }
    }

    public func releaseIdempotencyKey(scope: String, key: String) async throws(HooklineError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_key WHERE tenant = ? AND key = ? AND resource_id IS NULL", arguments: [scope, key])
        }
    }
}
