import Foundation
@testable import HooklineCore
import HooklineTestSupport
@testable import HooklineSQLite

/// A directory under the system temp dir, removed when the value is released by `remove()`.
struct TemporaryDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "hookline-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A fresh store in a temporary directory, with operations acting as the CLI.
struct StoreFixture {
    let directory = TemporaryDirectory()
    let store: SQLiteStore
    let clock = ManualClock()
    let operations: Operations

    init() throws {
        store = try SQLiteStore(path: directory.file("hookline.db"))
        operations = Operations(store: store, clock: clock, actor: .cli)
    }

    var path: String { directory.file("hookline.db") }

    func tearDown() {
        try? store.close()
        directory.remove()
    }
}

enum Examples {
    /// A valid `data` object for a type, from the catalog.
    static func data(_ type: String) -> JSONValue {
        try! JSONValue.parse(EventCatalog.type(named: type)!.exampleData)
    }
}
