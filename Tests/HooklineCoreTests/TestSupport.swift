import Foundation
@testable import HooklineCore
@testable import HooklineSQLite
import Synchronization

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

/// A clock that moves only when told to.
final class TestClock: HooklineClock {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_764_000_000)) {
        current = Mutex(start)
    }

    func now() -> Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A fresh store in a temporary directory, with operations acting as the CLI.
struct StoreFixture {
    let directory = TemporaryDirectory()
    let store: SQLiteStore
    let clock = TestClock()
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
