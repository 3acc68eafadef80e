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

    /// The built binary copied into a temporary directory outside the checkout, as `cp` to
    /// /usr/local/bin does, with a home of its own that holds no themes: what runs there must bring
    /// everything it needs.
    static let installed: (binary: String, home: String) = {
        let root = NSTemporaryDirectory() + "hookline-installed-" + UUID().uuidString.prefix(8)
        let home = root + "/home"
        try! FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try! FileManager.default.copyItem(atPath: CLI.binary, toPath: root + "/bin/hookline")
        return (root + "/bin/hookline", home)
    }()

    /// The command line that runs the installed copy with `arguments` and a clean environment.
    static func installedCommand(_ arguments: String, environment: String = "") -> String {
        "env -u HOOKLINE_THEMES HOME='\(installed.home)' TERM=xterm-256color \(environment) '\(installed.binary)' \(arguments)"
    }

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

        /// Types text as it is, keys not named (`:dlv_…`).
        func type(_ text: String) async throws { try await tmux(["send-keys", "-t", "t", "-l", text]) }

        /// A left click at a 0-based cell, as an xterm sends it (SGR 1006).
        func click(x: Int, y: Int) async throws { try await type("\u{1B}[<0;\(x + 1);\(y + 1)M") }

        /// Waits until `condition` holds for the screen (20 s at most) and returns the screen.
        @discardableResult
        func waitUntil(_ what: String, _ condition: (String) -> Bool) async throws -> String {
            let deadline = Date().addingTimeInterval(20)
            var last = ""
            while Date() < deadline {
                last = try await screen()
                if condition(last) { return last }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the screen never showed \(what):\n\(last)")
            return last
        }

        /// Waits until the screen contains `text` (20 s at most) and returns the screen.
        @discardableResult
        func waitFor(_ text: String) async throws -> String {
            try await waitUntil("'\(text)'") { $0.contains(text) }
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

        /// Waits (20 s at most) until the receiver has had `count` requests; returns how many it had.
        func requests(reaching count: Int) async throws -> Int {
            let deadline = Date().addingTimeInterval(20)
            while counter.count.load(ordering: .relaxed) < count && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            return counter.count.load(ordering: .relaxed)
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
        let terminal = try Terminal(command: Self.installedCommand("console --db '\(setup.cli.database)'"), directory: setup.cli.directory)
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
        #expect(try await setup.requests(reaching: 7) == 7)

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
        let terminal = try Terminal(command: Self.installedCommand("console --read-only --db '\(setup.cli.database)'"), directory: setup.cli.directory)
        defer { terminal.kill() }
        try await terminal.waitFor("3 Failed deliveries (3)")
        try await terminal.keys("Space")
        try await terminal.waitFor("Read-only console: Space (on/off) is refused; restart without --read-only to act.")
        try await terminal.keys("3")
        try await terminal.keys("r")
        try await terminal.waitFor("Read-only console: r (redeliver) is refused")
        // Marks change nothing stored, so they work; their bulk redelivery is refused in the same place.
        try await terminal.keys("m")
        try await terminal.keys("m")
        try await terminal.waitFor("· 2 marked")
        try await terminal.keys("Space")
        try await terminal.keys("r")
        try await terminal.waitUntil("the refusal, not the question") { $0.contains("Read-only console: r (redeliver) is refused") && !$0.contains("Redeliver 2 marked") }
        try await Task.sleep(for: .milliseconds(500))
        #expect(setup.counter.count.load(ordering: .relaxed) == 6)
        #expect(try await setup.enabled(setup.healthyID) == true)
        #expect(try await setup.enabled(setup.failingID) == true)
        try await terminal.keys("q")
        #expect(try await terminal.waitForExit() == "0")
    }

    @Test(.enabled(if: tmux != nil)) func theInstalledDemoStartsAnywhereAndDrawsEveryPane() async throws {
        let directory = NSTemporaryDirectory() + "hookline-demo-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let terminal = try Terminal(command: Self.installedCommand("demo --db '\(directory)/demo.db'"), directory: directory, width: 140, height: 40)
        defer { terminal.kill() }
        var screen = try await terminal.waitFor("CRM sync")
        for title in ["1 Subscriptions (5)", "2 Events", "3 Failed deliveries", "4 Breakers (5)", " deliveries/s "] {
            #expect(screen.contains(title), "\(title)\n\(screen)")
        }
        #expect(!screen.contains("No theme named"), "the built-in themes came with the binary")
        try await terminal.keys("5")
        screen = try await terminal.waitUntil("attempts") { $0.contains("5 Attempts (") && $0.contains("ms│") }
        #expect(screen.contains("TIME") && screen.contains("DURATION"))
        try await terminal.keys("q")
        #expect(try await terminal.waitForExit() == "0")
    }

    @Test(.enabled(if: tmux != nil)) func anOperatorJumpsMarksRedeliversSortsCopiesAndTails() async throws {
        let setup = try await Setup()
        defer { Task { await setup.tearDown() } }
        #expect(setup.counter.count.load(ordering: .relaxed) == 6)
        let failed = try await setup.cli.run(["deliveries", "--status", "failed", "--json"]).json as? [[String: Any]] ?? []
        let failedIDs = failed.compactMap { $0["id"] as? String }
        #expect(failedIDs.count == 3)
        let pager = setup.cli.directory + "/pager.sh"
        // Like less, the pager must own the terminal: its process group is the terminal's foreground
        // one (fields 5 and 8 of /proc/PID/stat), else reading a key stops or fails it.
        try "#!/bin/sh\nfile=\"$1\"\nset -- $(cat /proc/$$/stat)\n[ \"$5\" = \"$8\" ] || exit 9\ncp \"$file\" '\(setup.cli.directory)/paged.txt'\n"
            .write(toFile: pager, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: pager)
        let terminal = try Terminal(
            command: Self.installedCommand("console --refresh 1s --db '\(setup.cli.database)'", environment: "PAGER='\(pager)'"), directory: setup.cli.directory)
        defer { terminal.kill() }
        try await terminal.tmux(["set-option", "-g", "set-clipboard", "on"])
        var screen = try await terminal.waitFor("3 Failed deliveries (3)")

        // `:` and a delivery id open that delivery.
        try await terminal.keys(":")
        try await terminal.type(failedIDs[1])
        try await terminal.keys("Enter")
        try await terminal.waitFor("Delivery   \(failedIDs[1])")
        try await terminal.keys("Escape")

        // `s` changes the order shown: trouble first, then by name, then reversed.
        screen = try await terminal.waitFor("1 Subscriptions (2) · trouble first")
        let order = { (screen: String) -> [String] in
            screen.split(separator: "\n").compactMap { line in ["Broken ERP", "Healthy CRM"].first { line.prefix(70).contains($0) } }
        }
        #expect(order(screen).prefix(2) == ["Broken ERP", "Healthy CRM"], "the failing endpoint first")
        try await terminal.keys("s")
        try await terminal.keys("s")
        try await terminal.keys("S")
        screen = try await terminal.waitFor("1 Subscriptions (2) · sort ENDPOINT ↓")
        #expect(order(screen).prefix(2) == ["Healthy CRM", "Broken ERP"], "\(screen)")

        // Three failed deliveries marked, r, y: three new attempts reach the receiver.
        try await terminal.keys("3")
        for _ in 0..<3 { try await terminal.keys("m") }
        try await terminal.waitFor("3 Failed deliveries (3) · newest first · 3 marked")
        try await terminal.keys("r")
        try await terminal.waitFor("Redeliver 3 marked deliveries? [y/N]")
        try await terminal.keys("y")
        try await terminal.waitFor("Queued 3 of 3 marked deliveries for redelivery.")
        #expect(try await setup.requests(reaching: 9) == 9)

        // `5`: a new attempt shows within two refreshes of being recorded.
        try await terminal.keys("5")
        try await terminal.waitFor("5 Attempts (")
        try await setup.cli.run(["emit", "customer.risk_changed", "--data", Self.riskChanged])
        // The healthy endpoint's request; the broken one's may wait for its breaker's probe.
        #expect(try await setup.requests(reaching: 10) >= 10, "the new event reached the healthy endpoint")
        let received = Date()
        screen = try await terminal.waitFor("customer.risk_changed")
        let lag = Date().timeIntervalSince(received)
        #expect(lag < 2 + 1.5, "shown \(lag) s after the receiver answered: two 1 s refreshes and the time to record it")

        // `y` copies the selected delivery's id through OSC 52 (tmux keeps it as a paste buffer).
        try await terminal.keys("g")
        try await terminal.keys("y")
        screen = try await terminal.waitFor("to the clipboard")
        let copied = try await terminal.tmux(["show-buffer"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(copied.hasPrefix("dlv_") && screen.contains("Copied \(copied) to the clipboard"), "\(copied)")

        // `v` on an event: its payload in $PAGER, and the console back afterwards.
        try await terminal.keys("2")
        try await terminal.keys("g")
        try await terminal.keys("v")
        try await terminal.waitFor("Closed the payload of evt_")
        let paged = try String(contentsOfFile: setup.cli.directory + "/paged.txt", encoding: .utf8)
        #expect(paged.contains("\"risk_change\"") && paged.contains("cus_1"), "\(paged)")
        try await terminal.waitFor("2 Events (4)")

        // A click on the Subscriptions pane's second row focuses it and selects that row.
        screen = try await terminal.screen()
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let names = order(screen)
        let second = names.count > 1 ? names[1] : "-"
        let rowY = lines.firstIndex { $0.prefix(70).contains(second) } ?? 0
        try await terminal.click(x: 10, y: rowY)
        try await terminal.waitFor("Space on/off")
        try await terminal.keys("Enter")
        try await terminal.waitFor("Endpoint   \(second == "Healthy CRM" ? setup.healthyID : setup.failingID)")
        try await terminal.keys("Escape")

        try await terminal.keys("q")
        #expect(try await terminal.waitForExit() == "0")
    }

    static let riskChanged = #"{"customer":{"id":"cus_1"},"risk_change":{"from":"low","to":"high"}}"#
}
