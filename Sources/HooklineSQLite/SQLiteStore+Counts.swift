import GRDB
import HooklineCore

extension DeliveryCountChanges {
    /// Writes the changes; call it inside the transaction that made them.
    package func save(in db: Database) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO delivery_count (endpoint_id, status, n) VALUES (?, ?, ?)
            ON CONFLICT (endpoint_id, status) DO UPDATE SET n = n + excluded.n
            """)
        for (endpointID, status, delta) in entries {
            try upsert.execute(arguments: [endpointID, status.rawValue, delta])
        }
    }

    /// Counts every delivery again, for bulk changes made without this type.
    package static func recount(in db: Database) throws {
        try db.execute(sql: """
            DELETE FROM delivery_count;
            INSERT INTO delivery_count (endpoint_id, status, n) SELECT endpoint_id, status, count(*) FROM delivery GROUP BY endpoint_id, status;
            """)
    }
}
