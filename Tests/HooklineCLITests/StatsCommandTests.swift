import Foundation
import HooklineTestSupport
import Testing

/// `hookline stats` as a cron job runs it: its JSON against the deliveries the CLI lists, and every
/// key against README's table.
@Suite struct StatsCommandTests {
    static let event = #"{"case":{"id":"c"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#

    /// The dotted paths of a JSON value's keys (`endpoints[].url`); arrays contribute their elements' keys.
    static func paths(_ value: Any, prefix: String = "") -> Set<String> {
        if let object = value as? [String: Any] {
            return object.reduce(into: Set<String>()) { found, entry in
                let path = prefix.isEmpty ? entry.key : prefix + "." + entry.key
                let inner = Self.paths(entry.value, prefix: path)
                // An empty array shows no keys (and is no leaf of its own).
                if entry.value is [Any] { found.formUnion(inner) } else { found.formUnion(inner.isEmpty ? [path] : inner) }
            }
        }
        if let array = value as? [Any] {
            return array.reduce(into: Set<String>()) { $0.formUnion(Self.paths($1, prefix: prefix + "[]")) }
        }
        return []
    }

    /// The key paths README's "Stats for scripts" table documents, with `a.{x,y}` spelled out.
    static func documentedPaths() throws -> Set<String> {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Stats for scripts").dropFirst().first?.components(separatedBy: "\n## ").first)
        var paths = Set<String>()
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let keyCell = line.split(separator: "|")[0]
            for match in keyCell.matches(of: /`([^`]+)`/) {
                let key = String(match.output.1)
                if let brace = key.firstIndex(of: "{"), key.hasSuffix("}") {
                    let stem = key[..<brace]
                    for leaf in key[key.index(after: brace)..<key.index(before: key.endIndex)].split(separator: ",") { paths.insert(String(stem) + String(leaf)) }
                } else {
                    paths.insert(key)
                }
            }
        }
        return paths
    }

    @Test func theJSONCountsWhatTheListingsShowAndREADMEDocumentsEveryKey() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let receiver = try await ScriptedReceiver()
        let added = try await cli.run(["endpoint", "add", receiver.url(), "--json"])
        let live = try #require((added.json as? [String: Any])?["id"] as? String, "\(added.stderr)")
        let other = try await cli.run(["endpoint", "add", receiver.url("/other"), "--json"])
        let paused = try #require((other.json as? [String: Any])?["id"] as? String)
        for _ in 0..<6 { #expect(try await cli.run(["emit", "case.lost", "--data", Self.event]).status == 0) }
        #expect(try await cli.run(["endpoint", "disable", paused]).status == 0)
        let served = try await cli.run(["serve", "--drain", "--allow-private-networks", "--retention", "off"])
        #expect(served.status == 0, "\(served.stderr)")
        // One more, not delivered: the oldest pending.
        #expect(try await cli.run(["emit", "case.lost", "--data", Self.event]).status == 0)
        await receiver.stop()

        let stats = try await cli.run(["stats", "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let object = try #require(stats.json as? [String: Any], "\(stats.stdout)")
        let deliveries = try #require(object["deliveries"] as? [String: Int])
        for status in ["pending", "sending", "succeeded", "failed", "held"] {
            let listed = try await cli.run(["deliveries", "--status", status, "--json"])
            #expect(deliveries[status] == (listed.json as? [Any])?.count, "\(status): \(listed.stderr)")
        }
        #expect(deliveries["succeeded"] == 6 && deliveries["held"] == 7 && deliveries["pending"] == 1 && deliveries["total"] == 14)
        let attempts = try #require(object["attempts"] as? [String: Any])
        #expect(attempts["total"] as? Int == receiver.requests.count && attempts["success_rate"] as? Double == 1)
        let oldest = try #require(object["oldest_pending"] as? [String: Any])
        #expect(oldest["endpoint_id"] as? String == live)
        let lines = try #require(object["endpoints"] as? [[String: Any]])
        #expect(Set(lines.compactMap { $0["endpoint_id"] as? String }) == [live, paused])

        // Every key printed is documented, and every documented key is printed (breakers: their
        // objects are `breaker list --json`'s, here all closed, so they are taken from there).
        var printed = Self.paths(object)
        let breakers = try await cli.run(["breaker", "list", "--json"])
        let breakerKeys = Self.paths(try #require(breakers.json as? [Any], "\(breakers.stdout)"), prefix: "breakers")
        #expect(!breakerKeys.isEmpty)
        printed.formUnion(breakerKeys)
        let documented = try Self.documentedPaths()
        #expect(printed.subtracting(documented).isEmpty, "printed but not in README: \(printed.subtracting(documented).sorted())")
        #expect(documented.subtracting(printed).isEmpty, "in README but not printed: \(documented.subtracting(printed).sorted())")

        let table = try await cli.run(["stats", "--since", "15m"])
        #expect(table.stdout.contains("Deliveries     pending 1 · sending 0 · succeeded 6 · failed 0 · held 7 · total 14"), "\(table.stdout)")
        #expect(table.stdout.contains("Oldest pending dlv_"), "\(table.stdout)")
        let unknown = try await cli.run(["stats", "--tenant", "nobody"])
        #expect(unknown.status == 66 && unknown.stderr.contains("hookline tenant list"), "\(unknown.stderr)")
        let badWindow = try await cli.run(["stats", "--since", "soon"])
        #expect(badWindow.status == 64 && badWindow.stderr.contains("--since 'soon' is not a duration"), "\(badWindow.stderr)")
    }
}
