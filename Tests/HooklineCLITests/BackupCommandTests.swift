import Foundation
import GRDB
import Testing

/// `hookline backup` against a running `serve`: the copy is taken while 10,000 events are ingested
/// and delivered, and it holds every event acknowledged before it began.
extension ServeAPITests {
    static func batch(_ range: Range<Int>) -> String {
        let items = range.map { index in
            #"{"event":"case.lost","id":"evt_backup_\#(index)","data":{"case":{"id":"case_\#(index)"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}}"#
        }
        return #"{"events":["# + items.joined(separator: ",") + "]}"
    }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func aBackupTakenWhileServeDeliversHoldsEveryAcknowledgedEventAndOpens() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receivers = try await receiverWithEndpoint(cli)
        let token = "serve-api-token-0123456789"
        let (serve, port) = try await startServe(cli, ["--api-token", token, "--allow-private-networks", "--retention", "off"])
        defer { serve.terminate() }
        #expect(port > 0)

        // 6,000 events acknowledged, and being delivered, before the backup begins.
        for first in stride(from: 0, to: 6_000, by: 1_000) {
            let (status, body) = try await post(port, "/v1/events/batch", token: token, body: Self.batch(first..<first + 1_000))
            #expect(status == 200 && !body.contains(#""status":4"#), "\(body.prefix(300))")
        }
        let target = cli.directory + "/backups/hookline-copy.db"
        try FileManager.default.createDirectory(atPath: cli.directory + "/backups", withIntermediateDirectories: true)
        // The other 4,000 arrive while the copy is made.
        let backup = Task { try await cli.run(["backup", "--to", target, "--verify", "--json"]) }
        for first in stride(from: 6_000, to: 10_000, by: 1_000) {
            #expect(try await post(port, "/v1/events/batch", token: token, body: Self.batch(first..<first + 1_000)).0 == 200)
        }
        let result = try await backup.value
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(result.json as? [String: Any], "\(result.stdout)")
        let verification = try #require(report["verification"] as? [String: Any])
        #expect(verification["integrity"] as? String == "ok")
        let copiedEvents = try #require(verification["events"] as? Int)
        #expect(copiedEvents >= 6_000 && copiedEvents <= 10_000)
        #expect((report["key"] as? [String: Any])?["file"] as? String == target + ".key")

        // Serve was not held up: everything is delivered, the backup's 6,000 and the rest.
        let deadline = Date().addingTimeInterval(180)
        while receivers.total < 10_000 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(receivers.total == 10_000)
        serve.terminate()
        await serve.exit()
        await receivers.stop()

        #expect(try Self.mode(target) == 0o600 && Self.mode(target + ".key") == 0o600)
        let queue = try DatabaseQueue(path: target)
        let (ids, integrity, orphans) = try await queue.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT id FROM event")),
             try String.fetchOne(db, sql: "PRAGMA integrity_check"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE id NOT IN (SELECT event_id FROM delivery)") ?? -1)
        }
        try queue.close()
        #expect(integrity == "ok" && ids.count == copiedEvents && orphans == 0, "every copied event has its delivery")
        let missing = (0..<6_000).map { "evt_backup_\($0)" }.filter { !ids.contains($0) }
        #expect(missing.isEmpty, "acknowledged before the backup began but not in it: \(missing.prefix(5))")

        // The copy is a working database: its key file opens the secrets, the commands read it.
        let listed = try await cli.run(["endpoint", "list", "--db", target, "--json"])
        #expect(listed.status == 0 && (listed.json as? [Any])?.count == 1, "\(listed.stderr)")
        let stats = try await cli.run(["stats", "--db", target, "--json"])
        #expect(((stats.json as? [String: Any])?["deliveries"] as? [String: Int])?["total"] == copiedEvents, "\(stats.stderr)")
    }
}
