import Foundation
import HooklineCore
import HooklineSQLite

/// The cost of an idle `serve`: CPU time and resident memory of the real process over a database
/// with few endpoints and over one with many, measured in the same run.
public struct IdleBenchmark: Sendable {
    /// Endpoint counts to measure, smallest first.
    public var endpointCounts: [Int]
    public var warmUpSeconds: Double
    public var seconds: Double
    /// The `hookline` executable that serves.
    public var executable: String
    public var directory: String

    public init(endpointCounts: [Int], warmUpSeconds: Double, seconds: Double, executable: String, directory: String) {
        self.endpointCounts = endpointCounts
        self.warmUpSeconds = warmUpSeconds
        self.seconds = seconds
        self.executable = executable
        self.directory = directory
    }

    public struct Run: Sendable {
        public var endpoints: Int
        /// User and system CPU time of the serve process during the measured interval.
        public var cpuSeconds: Double
        public var seconds: Double
        public var residentBytes: Int?
        public var cpuPercent: Double { seconds > 0 ? cpuSeconds / seconds * 100 : 0 }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> [Run] {
        var runs: [Run] = []
        for count in endpointCounts {
            let path = directory + "/bench-idle-\(count).db"
            let store = try SQLiteStore(path: path)
            log("creating \(count) endpoints…")
            _ = try await store.generateHistory(events: 0, endpoints: count)
            try store.close()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["serve", "--db", path]
            var environment = ProcessInfo.processInfo.environment
            environment["HOOKLINE_LOG_LEVEL"] = "error"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer {
                if process.isRunning {
                    process.terminate()
                    process.waitUntilExit()
                }
            }
            log(String(format: "serve over %d endpoints: %.0f s to settle, then %.0f s measured…", count, warmUpSeconds, seconds))
            try await Task.sleep(for: .milliseconds(Int(warmUpSeconds * 1000)))
            guard process.isRunning, let before = Self.cpuSeconds(pid: process.processIdentifier) else {
                throw BenchmarkError("serve over \(count) endpoints stopped during the warm-up (exit \(process.terminationStatus))")
            }
            let start = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            guard let after = Self.cpuSeconds(pid: process.processIdentifier) else {
                throw BenchmarkError("serve over \(count) endpoints stopped while it was measured")
            }
            let elapsed = (ContinuousClock.now - start).milliseconds / 1000
            runs.append(Run(endpoints: count, cpuSeconds: after - before, seconds: elapsed, residentBytes: Self.resident(pid: process.processIdentifier)))
        }
        return runs
    }

    /// User plus system time of a process, from /proc/PID/stat (Linux), in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After the command name: state is field 3, utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size of a process, from /proc/PID/status.
    static func resident(pid: Int32) -> Int? {
        ProcessMemory.field("VmRSS:", path: "/proc/\(pid)/status")
    }
}
