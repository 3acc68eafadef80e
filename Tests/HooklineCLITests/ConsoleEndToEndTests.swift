import Foundation
import HooklineCore
import HooklineServer
import Logging
import Synchronization
import Testing

/// The real console binary in a real pseudo-terminal (tmux), against a prepared database, a running
/// `hookline serve` and a receiver: what an operator sees and what their keys do.
@Suite(.serialized) struct ConsoleEndToEndTests {
    static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A tmux server of our own (its own socket), so that tests never touch the user's sessions.
    final class Terminal {
        let socket = "hookline-test-\(UUID().uuidString.prefix(8))"
        let exitFile: String

        init(command: String, directory: String, width: Int = 140, height: Int = 40) throws {
            exitFile = directory + "/console-exit-\(socket)"
            _ = try Terminal.tmuxBlocking(socket: socket, ["new-session", "-d", "-s", "t", "-x", "\(width)", "-y", "\(height)",
                      "cd '\(directory)' && \(command) 2>>console-stderr.log; echo $? > '\(exitFile)'"])
        }

        /// Runs tmux through the shell with `system`, which waits for it and reaps it. (Foundation's
        /// Process loses track of a tmux client whose server it forked.)
        @discardableResult
        func tmux(_ arguments: [String]) async throws -> String {
            let socket = self.socket
            return try await offThePool { try Terminal.tmuxBlocking(socket: socket, arguments) }
        }

        static func tmuxBlocking(socket: String, _ arguments: [String]) throws -> String {
            let output = NSTemporaryDirectory() + "tmux-out-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: output) }
            let quoted = ([ConsoleEndToEndTests.tmux!, "-L", socket] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let command = "TERM=xterm-256color LANG=C.UTF-8 " + quoted.joined(separator: " ") + " > '\(output)' 2>/dev/null < /dev/null"
            let status = system(command)
            guard status == 0 else { throw HooklineError.storage("tmux \(arguments.first ?? "") failed with status \(status)") }
            return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        }

        func screen() async throws -> String { try await tmux(["capture-pane", "-t", "t", "-p"]) }

        func keys(_ keys: String...) async throws { try await tmux(["send-keys", "-t", "t"] + keys) }

        /// Waits until the screen contains `text` (20 s at most) and returns the screen.
        @discardableResult
        func waitFor(_ text: String) async throws -> String {
            let deadline = Date().addingTimeInterval(20)
            var last = ""
            while Date() < deadline {
                last = try await screen()
                if last.contains(text) { return last }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the screen never showed '\(text)':\n\(last)")
            return last
        }

        var exitStatus: String? {
            (try? String(contentsOfFile: exitFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func waitForExit() async throws -> String? {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, exitStatus == nil { try await Task.sleep(for: .milliseconds(100)) }
            return exitStatus
        }

        func kill() { _ = try? Terminal.tmuxBlocking(socket: socket, ["kill-server"]) }
    }

    final class Counter: Sendable {
        let count = Atomic<Int>(0)
    }

    /// A database with a healthy endpoint and one whose receiver rejects its signature, so that its
    /// deliveries fail; a receiver counting requests; a `serve` process delivering.
    struct Setup {
        let cli = CLI()
        let counter = Counter()
        let receiverTask: Task<Void, any Error>
        let serve: Process
        let healthyID: String
        let failingID: String

        init() async throws {
            let secret = "console-e2e-secret-0123456789abcdef"
            let receiver = WebhookReceiver(host: "127.0.0.1", port: 0, path: "/hook", secret: secret)
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            let counter = self.counter
            receiverTask = Task {
                try await receiver.run(logger: quiet, onListening: { continuation.yield($0) }, onRequest: { _ in counter.count.add(1, ordering: .relaxed) })
            }
            var iterator = stream.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            let url = "http://127.0.0.1:\(port)/hook"
            let healthy = try await cli.run(["endpoint", "add", url, "--secret", secret, "--description", "Healthy CRM", "--json"])
            healthyID = (healthy.json as? [String: Any])?["id"] as? String ?? ""
            let failing = try await cli.run(["endpoint", "add", url, "--secret", "wrong-secret-0123456789abcdef", "--description", "Broken ERP", "--json"])
            failingID = (failing.json as? [String: Any])?["id"] as? String ?? ""
            for index in 0..<3 {
                try await cli.run(["emit", "case.lost", "--data", #"{"case":{"id":"case_\#(index)"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"customer_unresponsive"}}"#])
            }
            try await cli.run(["serve", "--drain", "--allow-private-networks", "--retry-schedule", "0s"])
            serve = Process()
            serve.executableURL = URL(fileURLWithPath: CLI.binary)
            serve.arguments = ["serve", "--db", cli.database, "--allow-private-networks", "--retry-schedule", "0s"]
            serve.standardError = FileHandle.nullDevice
            try serve.run()
        }

        func tearDown() async {
            serve.terminate()
            await serve.exit()
            receiverTask.cancel()
            _ = await receiverTask.result
            cli.remove()
        }

        func enabled(_ id: String) async throws -> Bool? {
            let list = try await cli.run(["endpoint", "list", "--json"]).json as? [[String: Any]]
            return list?.first { $0["id"] as? String == id }?["enabled"] as? Bool
        }
    }

    @Test(.enabled(if: tmux != nil)) func anOperatorRedeliversTogglesResizesAndQuits() async throws {
        let setup = try await Setup()
        defer { Task { await setup.tearDown() } }
        #expect(setup.counter.count.load(ordering: .relaxed) == 6)
        let terminal = try Terminal(command: "'\(CLI.binary)' console --db '\(setup.cli.database)'", directory: setup.cli.directory)
        defer { terminal.kill() }

        var screen = try await terminal.waitFor("3 Failed deliveries (3)")
        #expect(screen.contains("1 Subscriptions (2)"))
        #expect(screen.contains("Healthy CRM"))
        #expect(screen.contains("Broken ERP"))
        #expect(screen.contains("2 Events (3)"))
        #expect(screen.contains("case.lost"))

        // r on a failed delivery: a new attempt reaches the receiver.
        try await terminal.keys("3")
        try await terminal.keys("r")
        screen = try await terminal.waitFor("Redelivery of dlv_")
        let deadline = Date().addingTimeInterval(20)
        while setup.counter.count.load(ordering: .relaxed) < 7 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(setup.counter.count.load(ordering: .relaxed) == 7)

        // Space on the last subscription (the failing one is listed first), confirmed: the CLI sees it disabled.
        try await terminal.keys("1")
        try await terminal.keys("G")
        try await terminal.keys("Space")
        try await terminal.waitFor("Disable Healthy CRM?")
        try await terminal.keys("y")
        try await terminal.waitFor("Disabled \(setup.healthyID)")
        #expect(try await setup.enabled(setup.healthyID) == false)

        // A resize re-lays out: tabs below 120 columns.
        try await terminal.tmux(["resize-window", "-t", "t", "-x", "100", "-y", "30"])
        screen = try await terminal.waitFor(" 1 Subscriptions   2 Events ")
        #expect(!screen.contains("3 Failed deliveries (3)"), "one pane at a time now")

        // Another process's change shows on the next refresh.
        try await setup.cli.run(["emit", "case.lost", "--data", #"{"case":{"id":"case_new"},"loss_details":{"lost_at":"2025-10-25T20:00:00Z","reason":"x"}}"#])
        try await terminal.keys("2")
        try await terminal.waitFor("2 Events (4)")

        try await terminal.keys("q")
        #expect(try await terminal.waitForExit() == "0")
    }

    @Test(.enabled(if: tmux != nil)) func readOnlyRefusesBothActions() async throws {
        let setup = try await Setup()
        defer { Task { await setup.tearDown() } }
        let terminal = try Terminal(command: "'\(CLI.binary)' console --read-only --db '\(setup.cli.database)'", directory: setup.cli.directory)
        defer { terminal.kill() }
        try await terminal.waitFor("3 Failed deliveries (3)")
        try await terminal.keys("Space")
        try await terminal.waitFor("Read-only console: enable or disable the subscription is refused.")
        try await terminal.keys("3")
        try await terminal.keys("r")
        try await terminal.waitFor("Read-only console: redeliver the selected delivery is refused.")
        try await Task.sleep(for: .milliseconds(500))
        #expect(setup.counter.count.load(ordering: .relaxed) == 6)
        #expect(try await setup.enabled(setup.healthyID) == true)
        #expect(try await setup.enabled(setup.failingID) == true)
        try await terminal.keys("q")
        #expect(try await terminal.waitForExit() == "0")
    }
}
