import ArgumentParser
import Foundation
import HooklineCore
import HooklineStores
import Logging

/// A subcommand whose `HooklineError`s become one sentence on stderr and a distinct exit code.
protocol HooklineCommand: AsyncParsableCommand {
    /// The log level unless `HOOKLINE_LOG_LEVEL` says otherwise.
    static var defaultLogLevel: Logger.Level { get }
    /// Where logs go: stderr, or (for full-screen commands) `$HOOKLINE_LOG_FILE` or nowhere.
    /// Called before anything logs; `serve` reads it from its settings.
    func logDestination() throws(HooklineError) -> LogDestination
    func execute() async throws
}

/// Where a command's logs go.
enum LogDestination {
    case standardError
    /// One JSON object per line on stderr, for log collectors.
    case jsonStandardError
    /// Full-screen commands must never write on their own screen.
    case fileOrNothing
}

extension HooklineCommand {
    static var defaultLogLevel: Logger.Level { .warning }
    func logDestination() throws(HooklineError) -> LogDestination { .standardError }

    mutating func run() async throws {
        do {
            LogSetup.bootstrap(defaultLevel: Self.defaultLogLevel, destination: try logDestination())
            try await execute()
        } catch let error as HooklineError {
            Output.error(error.commandLineDescription)
            throw ExitCode(error.exitCode)
        }
    }
}

extension HooklineError {
    /// The core's sentence with the command line's way out: the core names no flags.
    var commandLineDescription: String {
        switch self {
        case .notFound(let kind, let id):
            return "No \(kind) with id '\(id)' exists; list them with `hookline \(Self.listCommand(for: kind))`."
        case .databaseDirectoryMissing(let path):
            return "The directory of the database path '\(path)' does not exist; create it or pass another --db."
        case .notAHooklineDatabase(let path, let reason):
            return "'\(path)' is not a Hookline database (\(reason)); pass the right --db or a new file name."
        case .databaseMissing(let path):
            return "No Hookline database at '\(path)'; add an endpoint or emit an event to create one, or pass --db."
        case .conflict(let sentence):
            // The core says a removal may be forced; on the command line that is --force.
            return sentence.replacingOccurrences(of: "force the removal", with: "pass --force")
        default:
            return description
        }
    }

    static func listCommand(for kind: String) -> String {
        switch kind {
        case "endpoint": return "endpoint list"
        case "event": return "events"
        case "delivery": return "deliveries"
        case "tenant": return "tenant list"
        default: return "--help"
        }
    }

    /// sysexits-style codes, so that scripts can tell bad input from a missing record.
    var exitCode: Int32 {
        switch self {
        case .invalidJSON, .invalidInput, .invalidField: return 64
        case .notAHooklineDatabase, .databaseFromNewerVersion, .wrongSecretKey, .secretKeyMissing, .unknownStoredValue: return 65
        case .notFound, .databaseMissing, .databaseDirectoryMissing: return 66
        case .storage: return 74
        case .conflict: return 75
        }
    }
}

/// `--db`, shared by every command that touches the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite database file, or a postgres:// URL (default: $HOOKLINE_DB, else ./hookline.db).", valueName: "path"))
    var db: String?

    var path: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["HOOKLINE_DB"], !env.isEmpty { return env }
        return "hookline.db"
    }

    /// Opens the store (a `postgres://` URL or an SQLite file), creating the file when a command writes.
    func open(creating: Bool) async throws(HooklineError) -> any HooklineStore {
        try await StoreLocation.open(path, creating: creating)
    }

    func operations(creating: Bool) async throws(HooklineError) -> Operations {
        Operations(store: try await open(creating: creating), actor: .cli)
    }
}

/// `--json`, shared by every listing.
struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (snake_case keys) instead of a table.")
    var json = false
}

enum LogSetup {
    /// Sends logs to stderr at `HOOKLINE_LOG_LEVEL`, else `defaultLevel`; called once per process.
    static func bootstrap(defaultLevel: Logger.Level, destination: LogDestination) {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["HOOKLINE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        switch destination {
        case .standardError:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .jsonStandardError:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .fileOrNothing:
            guard let path = environment["HOOKLINE_LOG_FILE"], !path.isEmpty,
                  let file = fopen(path, "a")
            else {
                LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
                return
            }
            setvbuf(file, nil, _IOLBF, 0)
            let stream = LogFile(file: file)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler(label: label, stream: stream)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// A log file opened once for the life of the process.
struct LogFile: TextOutputStream, @unchecked Sendable {
    // @unchecked: a C FILE*; stdio locks each fputs call, so concurrent writers do not interleave.
    let file: UnsafeMutablePointer<FILE>

    mutating func write(_ string: String) {
        fputs(string, file)
    }
}
