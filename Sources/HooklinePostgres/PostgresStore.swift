import Foundation
import HooklineCore
import Logging
import NIOCore
import PostgresNIO

/// The PostgreSQL store: one database shared by several `hookline serve` nodes, the console and
/// the CLI, selected with `--db postgres://…`.
///
/// The schema and every rule are those of ``SQLiteStore``; what differs is how processes share
/// the work. Claims take rows with `FOR UPDATE SKIP LOCKED`, so nodes never claim the same
/// delivery; a batch of results locks its endpoints' breaker rows (in id order) for its
/// transaction, so there is one breaker per endpoint whichever node records; a rate limit is a
/// token bucket row that claims draw from, so it holds for the whole cluster. Endpoint secrets are
/// sealed with the key in `HOOKLINE_SECRET_KEY`, which every node must share (there is no file
/// beside a PostgreSQL database to keep it in).
public final class PostgresStore: HooklineStore {
    public let location: String
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let secrets: SecretBox
    package let logger: Logger

    /// Connects, checks that the database is Hookline's (or empty) and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - url: `postgres://user:password@host:port/database`, optionally with `?sslmode=require`.
    ///   - secretKey: 64 hex characters; by default `HOOKLINE_SECRET_KEY`.
    public init(
        url: String, secretKey: String? = ProcessInfo.processInfo.environment[SecretBox.environmentVariable],
        logger: Logger = Logger(label: "hookline.store")
    ) async throws(HooklineError) {
        let target = try PostgresTarget(url: url)
        location = target.redacted
        // postgres-nio logs each query's troubles itself; only errors are worth an operator's time.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        self.logger = quiet
        guard let secretKey, !secretKey.isEmpty else {
            throw .invalidInput(
                "A PostgreSQL database needs \(SecretBox.environmentVariable) to seal endpoint secrets: set it to 64 hex characters (`openssl rand -hex 32`), the same on every node.")
        }
        secrets = try SecretBox.fromHex(secretKey, source: SecretBox.environmentVariable)
        let client = PostgresClient(configuration: target.configuration, backgroundLogger: quiet)
        self.client = client
        runner = Task { await client.run() }
        do {
            // The client keeps trying to connect; a server that is not there must be an error.
            try await Self.within(.seconds(15), orElse: .storage(
                "Hookline cannot reach PostgreSQL at \(target.redacted) within 15 s; check that the server runs and the URL is right.")) { () async throws(HooklineError) in
                try await self.migrate()
            }
            try await checkSecretKey()
        } catch {
            runner.cancel()
            throw error
        }
    }

    /// Closes the connections; later calls fail.
    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    deinit {
        runner.cancel()
    }

    // MARK: Transactions

    /// Runs `body` in a transaction, again (up to five times) when PostgreSQL aborts it for a
    /// deadlock or a serialization failure between nodes.
    package func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(HooklineError) -> T {
        var tries = 0
        while true {
            tries += 1
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch {
                if tries < 5, Self.isRetryable(error) {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 5...(20 * tries))))
                    continue
                }
                throw map(error)
            }
        }
    }

    /// Runs reads on one connection, in one repeatable-read snapshot.
    package func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(HooklineError) -> T {
        do {
            return try await client.withConnection { connection in
                try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: self.logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    throw error
                }
            }
        } catch {
            throw map(error)
        }
    }

    /// Runs `body`, or throws `failure` when it takes longer than `limit`.
    static func within(_ limit: Duration, orElse failure: HooklineError, _ body: @escaping @Sendable () async throws(HooklineError) -> Void) async throws(HooklineError) {
        let outcome: Result<Void, HooklineError>? = await withTaskGroup(of: Result<Void, HooklineError>?.self) { group in
            group.addTask {
                do throws(HooklineError) { try await body() } catch { return .failure(error) }
                return .success(())
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success?: return
        case .failure(let error)?: throw error
        case nil: throw failure
        }
    }

    /// What failed inside a transaction: the transaction wraps a statement's failure or the
    /// caller's own refusal (not found, conflict) in its error.
    static func unwrapped(_ error: any Error) -> any Error {
        guard let wrapped = error as? PostgresTransactionError else { return error }
        return wrapped.closureError ?? wrapped.commitError ?? wrapped.beginError ?? error
    }

    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = unwrapped(error) as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        // serialization_failure, deadlock_detected
        return state == "40001" || state == "40P01"
    }

    /// One sentence for whatever PostgreSQL or the connection threw.
    func map(_ error: any Error) -> HooklineError {
        let error = Self.unwrapped(error)
        if let error = error as? HooklineError { return error }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState] ?? ""
                switch state {
                case "28P01", "28000":
                    return .storage("PostgreSQL at \(location) refused the login (\(message)); check the user and password in the URL.")
                case "3D000":
                    return .storage("PostgreSQL at \(location) has no such database (\(message)); create it with `createdb`.")
                case "53100":
                    return .storage("PostgreSQL at \(location) is out of disk space (\(message)); free some and retry (nothing was written).")
                default:
                    return .storage("PostgreSQL at \(location) failed: \(message) (SQLSTATE \(state)).")
                }
            }
            if error.code == .connectionError || error.code == .serverClosedConnection || error.code == .poolClosed {
                return .storage("Hookline cannot reach PostgreSQL at \(location); check that the server runs and the URL is right.")
            }
            return .storage("PostgreSQL at \(location) failed: \(error.code).")
        }
        return .storage("PostgreSQL at \(location) failed: \(error).")
    }

    package static func millis(_ date: Date) -> Int64 { Timestamp.milliseconds(date) }
    package static func millis(_ date: Date?) -> Int64? { date.map(Timestamp.milliseconds) }
    package static func date(_ millis: Int64) -> Date { Timestamp.date(milliseconds: millis) }
    package static func date(_ millis: Int64?) -> Date? { millis.map(Timestamp.date(milliseconds:)) }
}

/// A `postgres://` URL taken apart: the client's configuration and a form safe to show.
struct PostgresTarget {
    var configuration: PostgresClient.Configuration
    /// The URL without its password.
    var redacted: String

    init(url: String) throws(HooklineError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw .invalidInput("'\(url)' is not a postgres:// URL; write it as postgres://user:password@host:5432/database.")
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let port = components.port ?? 5432
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw .invalidInput("The PostgreSQL URL names no database; end it with /DATABASE, such as postgres://\(user)@\(host):\(port)/hookline.")
        }
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        default:
            throw .invalidInput("sslmode '\(sslMode)' is not supported; use disable, prefer, require or verify-full.")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: components.password, database: database, tls: tls)
        configuration.options.maximumConnections = 16
        self.configuration = configuration
        redacted = "postgres://\(user)@\(host):\(port)/\(database)"
    }
}

extension PostgresConnection {
    /// Every row of a query, each one ready to be read by column position.
    package func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await self.query(query, logger: logger) {
            rows.append(row.makeRandomAccess())
        }
        return rows
    }

    /// Runs a statement whose rows do not matter.
    package func run(_ query: PostgresQuery, _ logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}

extension PostgresRandomAccessRow {
    /// The value at `index`, decoded.
    package func get<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        try self[index].decode(T.self)
    }
}
