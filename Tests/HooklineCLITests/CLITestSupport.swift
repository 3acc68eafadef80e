import Foundation
import GRDB

/// Runs the built `hookline` binary as a user would, in a scratch directory.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) }
    }

    let directory: String
    var environment: [String: String] = [:]

    init() {
        directory = NSTemporaryDirectory() + "hookline-cli-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var database: String { directory + "/hookline.db" }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// The binary next to the test bundle (`.build/<triple>/debug/hookline`), or `$HOOKLINE_BINARY`.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["HOOKLINE_BINARY"] { return path }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("hookline").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/hookline").path
    }()

    /// Runs `hookline ARGS` in the scratch directory with `HOOKLINE_DB` pointing into it.
    ///
    /// The wait happens on a thread of its own: blocking the test's cooperative threads could starve
    /// the in-process receivers that the command delivers to.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil) async throws -> Result {
        let cli = self
        return try await offThePool { try cli.runBlocking(arguments, stdin: stdin) }
    }

    /// Runs another program (a system tool) the same way; returns its exit status.
    func runTool(_ executable: String, _ arguments: [String]) async throws -> Int32 {
        let cli = self
        return try await offThePool { try cli.runBlocking(arguments, executable: executable).status }
    }

    func runBlocking(_ arguments: [String], stdin: String? = nil, executable: String = CLI.binary) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["HOOKLINE_DB"] = database
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so that a large output cannot block the child.
        let errorOutput = ErrorOutput()
        let reader = Thread { errorOutput.data.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: errorOutput.data.withLock { String(decoding: $0, as: UTF8.self) })
    }

    /// Every row of every Hookline table, to prove that a refused command changed nothing.
    func snapshot() throws -> String {
        guard FileManager.default.fileExists(atPath: database) else { return "<no database>" }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            var text = ""
            for table in ["endpoint", "event", "delivery", "delivery_count", "attempt", "breaker", "audit"] {
                // Ordered by the primary key (every table's first columns).
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2") {
                    text += "\(table): \(row)\n"
                }
            }
            return text
        }
    }
}

import Synchronization

final class ErrorOutput: Sendable {
    let data = Mutex(Data())
}

/// Runs blocking work (waiting for a process) on a new thread and resumes when it is done.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

extension Process {
    /// Waits for the process to end without blocking a cooperative thread.
    func exit() async {
        let process = UncheckedProcess(process: self)
        _ = try? await offThePool { process.process.waitUntilExit() }
    }
}

/// A Process handed to a waiting thread.
struct UncheckedProcess: @unchecked Sendable {
    // @unchecked: only waitUntilExit is called on the other thread, and nothing else touches the
    // process until that returns.
    let process: Process
}
