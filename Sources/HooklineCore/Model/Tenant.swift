import Foundation

/// A customer of the SaaS: its endpoints receive only its events.
///
/// The producer chooses the id (its own customer id). Databases from before tenants, and every
/// command given no tenant, use ``defaultID``, so single-tenant use keeps working unchanged.
public struct Tenant: Sendable, Hashable {
    /// The tenant every database has and that cannot be removed.
    public static let defaultID = "default"
    /// The longest name accepted.
    public static let maximumNameLength = 200
    /// The most metadata entries accepted, and the longest key and value.
    public static let maximumMetadataEntries = 50
    public static let maximumMetadataLength = 500

    /// `^[A-Za-z0-9._-]{1,128}$`.
    public var id: String
    /// A name for people; the id when none was given.
    public var name: String
    /// The producer's own facts about the tenant, strings only.
    public var metadata: [String: String]
    public var createdAt: Date

    public init(id: String, name: String? = nil, metadata: [String: String] = [:], createdAt: Date) {
        self.id = id
        self.name = name ?? id
        self.metadata = metadata
        self.createdAt = createdAt
    }

    /// Checks a tenant id: 1 to 128 letters, digits, dots, underscores or dashes.
    public static func validate(id: String) throws(HooklineError) {
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard !id.isEmpty, id.utf8.count <= 128, allowed else {
            throw .invalidField(
                field: "tenant",
                sentence: "'\(Identifier.printable(id))' is not a tenant id; use 1 to 128 letters, digits, '.', '_' or '-', such as your own customer id.")
        }
    }

    /// Checks a name: at most 200 characters, no control characters.
    public static func validate(name: String) throws(HooklineError) {
        guard !name.isEmpty, name.count <= maximumNameLength,
              !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field: "name", sentence: "A tenant's name must be 1 to \(maximumNameLength) characters of plain text.")
        }
    }

    /// Checks metadata: at most 50 entries, keys and values of at most 500 characters.
    public static func validate(metadata: [String: String]) throws(HooklineError) {
        guard metadata.count <= maximumMetadataEntries else {
            throw .invalidField(field: "metadata", sentence: "A tenant's metadata has \(metadata.count) entries; the limit is \(maximumMetadataEntries).")
        }
        for (key, value) in metadata where key.isEmpty || key.count > maximumMetadataLength || value.count > maximumMetadataLength {
            throw .invalidField(
                field: "metadata",
                sentence: "The metadata entry '\(Identifier.printable(String(key.prefix(40))))' is too long or has an empty key; keys and values may have at most \(maximumMetadataLength) characters.")
        }
    }

    /// The metadata as a JSON object of strings, keys sorted: how it is stored and shown.
    public static func object(metadata: [String: String]) -> JSONObject {
        var object = JSONObject()
        for key in metadata.keys.sorted() { object[key] = JSONValue.string(metadata[key] ?? "") }
        return object
    }

    /// The metadata as stored.
    public static func storedValue(metadata: [String: String]) -> String {
        JSONValue.object(object(metadata: metadata)).canonicalString
    }

    /// The refusal of a second tenant with an id that is taken.
    public static func exists(_ id: String) -> HooklineError {
        .conflict("A tenant with the id '\(id)' exists already; choose another id, or change that one.")
    }

    /// Metadata from its stored form; entries that are not strings are skipped.
    public static func metadata(stored: String) -> [String: String] {
        guard case .object(let object)? = try? JSONValue.parse(stored) else { return [:] }
        var metadata: [String: String] = [:]
        for key in object.keys {
            if case .string(let value)? = object[key] { metadata[key] = value }
        }
        return metadata
    }
}
