/// One type of event in the catalog: its name, what it means, what its `data` must hold.
public struct EventType: Sendable, Hashable {
    /// The JSON type a required field must have.
    public enum FieldKind: String, Sendable, Hashable {
        case string, number, object, array

        func matches(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (.string, .string), (.number, .number), (.object, .object), (.array, .array): return true
            default: return false
            }
        }

        var article: String { self == .object || self == .array ? "an \(rawValue)" : "a \(rawValue)" }
    }

    /// A field that `data` must contain, as a dotted path below `data`.
    public struct RequiredField: Sendable, Hashable {
        public var path: String
        public var kind: FieldKind
    }

    /// `case.created`, `incentive.applied`, …
    public var name: String
    /// When the event is sent, in the guide's words.
    public var summary: String
    /// The fields of `data` that every event of this type must have.
    public var requiredFields: [RequiredField]
    /// An example `data` object, canonical JSON text.
    public var exampleData: String

    /// Checks `data` against the required fields and names the first one missing or of the wrong type.
    public func validate(data: JSONValue) throws(HooklineError) {
        guard case .object = data else {
            throw .invalidField(field: "data", sentence: "The data of a \(name) event must be a JSON object, not \(data.typeName).")
        }
        for field in requiredFields {
            guard let value = data.value(atPath: field.path), value != .null else {
                // A parent that is there but not an object is the mistake to name, not the missing child.
                let parts = field.path.split(separator: ".")
                for depth in 1..<max(1, parts.count) {
                    let parent = parts.prefix(depth).joined(separator: ".")
                    if let found = data.value(atPath: parent), found != .null {
                        guard case .object = found else {
                            throw .invalidField(field: "data.\(parent)", sentence: "data.\(parent) must be an object for \(name), not \(found.typeName).")
                        }
                    }
                }
                throw .invalidField(field: "data.\(field.path)", sentence: "data.\(field.path) is required for \(name).")
            }
            guard field.kind.matches(value) else {
                throw .invalidField(
                    field: "data.\(field.path)",
                    sentence: "data.\(field.path) must be \(field.kind.article) for \(name), not \(value.typeName).")
            }
        }
    }
}
