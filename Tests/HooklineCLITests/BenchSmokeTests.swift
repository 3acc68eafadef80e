import Foundation
import Testing

/// A seconds-long run of every benchmark, so that `hookline bench` keeps working. It asserts what
/// the benchmark reports (everything delivered, figures printed), never how fast.
@Suite struct BenchSmokeTests {
    @Test func dispatchIngestGenerateAndConsoleBenchmarksRunEndToEnd() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let dispatch = try await cli.run(["bench", "dispatch", "--events", "100", "--endpoints", "2", "--ceiling-seconds", "0.5"])
        #expect(dispatch.status == 0, "\(dispatch.stderr)")
        #expect(dispatch.stdout.contains("(200 of 200 delivered in"), "\(dispatch.stdout)")
        #expect(dispatch.stdout.contains("receiver ceiling ("))
        #expect(dispatch.stdout.contains("ratio deliveries/s ÷ ceiling requests/s:"))
        #expect(dispatch.stdout.contains("peak resident memory of this process: ") && !dispatch.stdout.contains("process: -"))

        let ingest = try await cli.run([
            "bench", "ingest", "--seconds", "0.5", "--connections", "4", "--batch-size", "10", "--batch-connections", "2",
            "--rate", "50", "--latency-seconds", "0.5",
        ])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(ingest.stdout.components(separatedBy: "0 failed requests)").count == 3, "\(ingest.stdout)")
        #expect(ingest.stdout.contains("(100 deliveries of 25 events)"), "every delivery of the latency run arrived")
        let tenants = try await cli.run([
            "bench", "ingest", "--seconds", "0.5", "--connections", "4", "--batch-size", "10", "--batch-connections", "2",
            "--rate", "50", "--latency-seconds", "0.5", "--tenants", "3", "--endpoints", "2",
        ])
        #expect(tenants.status == 0, "\(tenants.stderr)")
        #expect(tenants.stdout.contains("fan-out to 2 of 3 tenants' 6 endpoints"), "\(tenants.stdout)")
        #expect(tenants.stdout.contains("(50 deliveries of 25 events)"), "each event reaches its own tenant's two endpoints only")
        let tooBig = try await cli.run(["bench", "ingest", "--batch-size", "1001"])
        #expect(tooBig.status == 64 && tooBig.stderr.contains("--batch-size must be between 1 and 1000"), "\(tooBig.stderr)")

        let path = cli.directory + "/large.db"
        let generate = try await cli.run(["bench", "generate", "--events", "2000", "--endpoints", "4", "--db", path])
        #expect(generate.status == 0, "\(generate.stderr)")
        #expect(generate.stdout.contains("generated 2000 events, 8000 deliveries"))
        let again = try await cli.run(["bench", "generate", "--events", "10", "--db", path])
        #expect(again.status == 75, "generating into an existing file is refused")

        let console = try await cli.run(["bench", "console", "--db", path, "--refreshes", "5"])
        #expect(console.status == 0, "\(console.stderr)")
        #expect(console.stdout.contains("database: 2000 events, 8000 deliveries"))
        #expect(console.stdout.contains("over 5 refreshes"))
        #expect(console.stdout.contains("frame data, attempts view open: p50"), "\(console.stdout)")
        #expect(console.stdout.contains("attempts view, :since 15m"))

        let lists = try await cli.run(["bench", "list", "--db", path, "--calls", "3", "--limit", "50"])
        #expect(lists.status == 0, "\(lists.stderr)")
        #expect(lists.stdout.contains("deliveries, first page: p50 ") && lists.stdout.contains("(50 rows)"), "\(lists.stdout)")
        #expect(lists.stdout.contains("deliveries, cursor walk: p50 ") && lists.stdout.contains("(150 rows)"), "three pages walked")

        let listed = try await cli.run(["events", "--db", path, "--limit", "3", "--json"])
        #expect((listed.json as? [[String: Any]])?.count == 3, "the generated database is a real Hookline database")

        let prune = try await cli.run(["bench", "prune", "--db", path, "--older-than", "15d", "--rate", "50", "--seconds", "0.5"])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdout.contains("while pruning: p50"), "\(prune.stdout)")
        #expect(prune.stdout.contains("(100 deliveries)"), "every delivery of both latency runs arrived")
        #expect(prune.stdout.contains("pruned ") && !prune.stdout.contains("pruned 0 events"), "\(prune.stdout)")
    }

    @Test func fanoutIdleAndLargeGenerateBenchmarksRunEndToEnd() async throws {
        let cli = CLI()
        defer { cli.remove() }
        let fanout = try await cli.run(["bench", "fanout", "--endpoints", "3,40", "--backlog", "2000"])
        #expect(fanout.status == 0, "\(fanout.stderr)")
        for count in [3, 40] {
            #expect(fanout.stdout.contains("\(count) endpoints, alone: \(count) deliveries created in"), "\(fanout.stdout)")
            #expect(fanout.stdout.contains("\(count) endpoints, beside a 2000-delivery backlog: \(count) deliveries created in"))
        }
        #expect(fanout.stdout.contains("the hot endpoint still had "))
        let badList = try await cli.run(["bench", "fanout", "--endpoints", "10,lots"])
        #expect(badList.status == 64 && badList.stderr.contains("--endpoints takes counts from 1 to 100000"), "\(badList.stderr)")

        let idle = try await cli.run(["bench", "idle", "--endpoints", "5,300", "--warm-up", "0.5", "--seconds", "1"])
        #expect(idle.status == 0, "\(idle.stderr)")
        #expect(idle.stdout.contains("idle serve over 5 endpoints: ") && idle.stdout.contains("idle serve over 300 endpoints: "), "\(idle.stdout)")
        #expect(!idle.stdout.contains("resident memory -"), "the serve process's memory was read")

        let path = cli.directory + "/many.db"
        let generate = try await cli.run(["bench", "generate", "--events", "1000", "--endpoints", "2000", "--fan-out", "2", "--db", path])
        #expect(generate.status == 0, "\(generate.stderr)")
        #expect(generate.stdout.contains("generated 1000 events, 2000 deliveries"), "\(generate.stdout)")
        let page = try await cli.run(["endpoint", "list", "--db", path, "--limit", "10000", "--json"])
        #expect((page.json as? [[String: Any]])?.count == 2000)
        let needsFanOut = try await cli.run(["bench", "generate", "--events", "10", "--endpoints", "500", "--db", cli.directory + "/x.db"])
        #expect(needsFanOut.status == 64 && needsFanOut.stderr.contains("give --fan-out"), "\(needsFanOut.stderr)")
    }
}
