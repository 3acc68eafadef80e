import Foundation
import HooklineCore
import HooklineSQLite
import HooklineTestSupport
import Testing

/// `hookline backup`'s store call: an SQLite copy taken while events keep coming, and PostgreSQL's refusal.
@Suite struct BackupContractTests {
    static let created = try! JSONValue.parse(Array(EventCatalog.type(named: "case.created")!.exampleData.utf8))

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test(arguments: StoreBackend.available)
    func aCopyTakenWhileEventsArriveHoldsEveryEarlierEventAndOpens(_ backend: StoreBackend) async throws {
        try await TestDatabase.withStore(backend) { database, store, operations in
            let endpoint = try await operations.addEndpoint(url: "https://backup.example.com/hook")
            var committed: [String] = []
            for _ in 0..<300 { committed.append(try await operations.emit(type: "case.created", data: Self.created).summary.event.id) }
            let directory = NSTemporaryDirectory() + "hookline-backup-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let target = directory + "/copy.db"

            guard backend == .sqlite else {
                await #expect {
                    _ = try await store.backup(to: target, verify: true)
                } throws: { error in
                    guard case .invalidInput(let sentence) = error as? HooklineError else { return false }
                    return sentence.contains("pg_dump")
                }
                #expect(!FileManager.default.fileExists(atPath: target))
                return
            }

            // Another writer keeps emitting through the backup.
            let writer = Task {
                for _ in 0..<400 { _ = try await operations.emit(type: "case.created", data: Self.created) }
            }
            let report = try await store.backup(to: target, verify: true)
            try await writer.value

            let verification = try #require(report.verification)
            #expect(verification.integrity == "ok")
            #expect(verification.events >= committed.count && verification.events <= committed.count + 400)
            #expect(verification.deliveries == verification.events, "one endpoint: one delivery per event, never half an emit")
            #expect(report.key == .environment(variable: SecretBox.environmentVariable), "the test's key is given, not in a file")
            #expect(try Self.mode(target) == 0o600)
            #expect(report.bytes > 0 && report.path == target)
            #expect(!FileManager.default.fileExists(atPath: target + "-wal"), "the verified copy is one file")

            let copy = try SQLiteStore(path: target, mode: .mustExist, secretKey: database.secretKey)
            defer { try? copy.close() }
            let copied = Operations.quiet(copy)
            for id in committed { #expect(try await copied.event(id: id).event.id == id) }
            let endpointInCopy = try await copied.endpoint(id: endpoint.id)
            #expect(endpointInCopy.secret == endpoint.secret, "the secrets open with the same key")

            // A second backup to the same path is refused and leaves the first as it was.
            let first = try Data(contentsOf: URL(fileURLWithPath: target))
            await #expect {
                _ = try await store.backup(to: target, verify: false)
            } throws: { error in
                guard case .invalidInput(let sentence) = error as? HooklineError else { return false }
                return sentence.contains("already exists")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == first)
        }
    }
}
