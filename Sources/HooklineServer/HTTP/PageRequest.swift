import Foundation
import HooklineCore
import Hummingbird

/// `?limit=` (1–1000, 100 when absent) and `?cursor=` of a list route, and the cursor of the next
/// page. A cursor is opaque to clients: the last row's creation time (where the order needs it)
/// and id, base64url-encoded.
struct PageRequest: Sendable {
    static let defaultLimit = 100
    static let maximumLimit = 1000

    var limit: Int
    /// The key of the last row of the previous page, or nil for the first page.
    var after: PageKey?

    init(_ request: Request) throws(HooklineError) {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw .invalidField(field: "limit", sentence: "limit is '\(text)'; it must be a whole number from 1 to \(Self.maximumLimit).")
            }
            self.limit = limit
        } else {
            limit = Self.defaultLimit
        }
        after = try query.get("cursor").map { text throws(HooklineError) in try Self.decode(text) }
    }

    /// The last row's id, for orders by id alone.
    var afterID: String? { after?.id }

    /// The cursor of the page after `rows`, or nil when this page is the last (fewer rows than asked).
    func next<Row>(_ rows: [Row], key: (Row) -> PageKey) -> String? {
        guard rows.count == limit, let last = rows.last else { return nil }
        return Self.encode(key(last))
    }

    static func encode(_ key: PageKey) -> String {
        let text = "1:\(Timestamp.milliseconds(key.createdAt)):\(key.id)"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) throws(HooklineError) -> PageKey {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "1", let millis = Int64(parts[1]), !parts[2].isEmpty else { throw invalid }
        return PageKey(createdAt: Timestamp.date(milliseconds: millis), id: String(parts[2]))
    }

    static let invalid = HooklineError.invalidField(
        field: "cursor", sentence: "cursor is not one this API gave; pass the next_cursor of the previous page, or none for the first.")
}
