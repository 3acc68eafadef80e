/// The event types an endpoint is subscribed to: every type (`*`) or a list.
public enum EventTypeSelection: Sendable, Hashable {
    /// Every type in the catalog, including types added later.
    case all
    /// Exactly these types, kept sorted and without duplicates.
    case only([String])

    /// Parses `*` or a comma-separated list of catalog types (`case.created,case.lost`).
    public init(parsing text: String) throws(HooklineError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" {
            self = .all
            return
        }
        let names = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw .invalidInput("The event type list '\(text)' is empty or has an empty item; give '*' or types such as case.created,case.lost.")
        }
        try self.init(types: names)
    }

    /// A selection of the given catalog types; unknown types are refused by name.
    public init(types: [String]) throws(HooklineError) {
        for name in types where name != "*" {
            try EventCatalog.requireKnown(name)
        }
        if types.contains("*") {
            self = .all
        } else {
            self = .only(Array(Set(types)).sorted())
        }
    }

    /// Whether an event of this type goes to the endpoint.
    public func includes(_ type: String) -> Bool {
        switch self {
        case .all: return true
        case .only(let types): return types.contains(type)
        }
    }

    /// The stored and printed form: `*` or the types joined by commas.
    public var storedValue: String {
        switch self {
        case .all: return "*"
        case .only(let types): return types.joined(separator: ",")
        }
    }

    /// The selection as a list, `["*"]` for all.
    public var list: [String] {
        switch self {
        case .all: return ["*"]
        case .only(let types): return types
        }
    }

    /// Reads the stored form without checking the catalog (the store trusts what it wrote).
    package init(stored: String) {
        if stored == "*" {
            self = .all
        } else {
            self = .only(stored.split(separator: ",").map(String.init))
        }
    }

    /// This selection with `types` added.
    public func adding(_ types: [String]) -> EventTypeSelection {
        switch self {
        case .all: return .all
        case .only(let current): return .only(Array(Set(current + types)).sorted())
        }
    }

    /// This selection with `types` removed; removing from `*` expands it to the catalog first.
    public func removing(_ types: [String]) -> EventTypeSelection {
        let current: [String]
        switch self {
        case .all: current = EventCatalog.all.map(\.name)
        case .only(let list): current = list
        }
        return .only(current.filter { !types.contains($0) }.sorted())
    }
}

import Foundation
