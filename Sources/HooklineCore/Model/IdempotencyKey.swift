import Crypto
import Foundation

/// A producer's own `Idempotency-Key`: any string of 1 to 255 printable characters, scoped to a
/// tenant. A request sent again with the same key creates nothing and answers with the original;
/// the same key with another request is a conflict.
public enum IdempotencyKey {
    public static let maximumLength = 255

    /// Checks a key: 1 to 255 printable ASCII characters (space included).
    public static func validate(_ key: String) throws(HooklineError) {
        guard !key.isEmpty, key.utf8.count <= maximumLength, key.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            throw .invalidField(
                field: "Idempotency-Key",
                sentence: "The Idempotency-Key must be 1 to \(maximumLength) printable characters, such as order-42; '\(Identifier.printable(key))' is not.")
        }
    }

    /// The id of the event a key creates in a tenant: the key itself when it is an event id
    /// already (as before keys were free text), else `evt_` and 26 characters of a digest of the
    /// tenant and the key. So a repeat finds its event inside the ingest transaction, and two
    /// tenants' equal keys are two events.
    public static func eventID(for key: String, tenant: String) -> String {
        if (try? Identifier.validate(key, prefix: Identifier.eventPrefix, kind: "event")) != nil { return key }
        let digest = SHA256.hash(data: Array("hookline idempotency\n\(tenant)\n\(key)".utf8))
        return Identifier.eventPrefix + Identifier.crockfordBase32(Array(digest), count: 26)
    }

    /// A digest of a request, to tell a repeat from another request under the same key.
    public static func requestHash(_ parts: [String]) -> String {
        SHA256.hash(data: Array(parts.joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
