import Foundation
import HooklineCore
import HooklinePostgres
import HooklineSQLite
import HooklineStores
import Logging
import PostgresNIO

/// The store back ends a shared test runs against.
public enum StoreBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// The PostgreSQL server the tests may use: a superuser URL (`Tests/with-postgres` sets it).
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["HOOKLINE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite always; PostgreSQL when a server is given, and always under CI (where a missing
    /// server must fail the suite, not skip half of it).
    public static var available: [StoreBackend] {
        postgresURL != nil || ProcessInfo.processInfo.environment["CI"] != nil ? [.sqlite, .postgres] : [.sqlite]
    }
}

/// A new, empty database of one back end for one test: an SQLite file in a scratch directory, or a
/// PostgreSQL database created on the test server. `remove()` deletes it.
public struct TestDatabase: Sendable {
    public let backend: StoreBackend
    /// What `--db` takes: the file path or the `postgres://` URL.
    public let location: String
    /// The key endpoint secrets are sealed with (PostgreSQL needs one given).
    public let secretKey: String
    let scratch: String?
    let databaseName: String?

    public static func make(_ backend: StoreBackend) async throws -> TestDatabase {
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        switch backend {
        case .sqlite:
            let directory = NSTemporaryDirectory() + "hookline-store-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return TestDatabase(backend: .sqlite, location: directory + "/hookline.db", secretKey: key, scratch: directory, databaseName: nil)
        case .postgres:
            guard let server = StoreBackend.postgresURL else {
                throw TestDatabaseError("HOOKLINE_TEST_POSTGRES is not set: run the tests with `Tests/with-postgres swift test`")
            }
            let name = "hookline_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            try await Self.admin(server, "CREATE DATABASE \(name)")
            let base = server.hasSuffix("/postgres") ? String(server.dropLast("/postgres".count)) : server
            return TestDatabase(backend: .postgres, location: base + "/" + name, secretKey: key, scratch: nil, databaseName: String(name))
        }
    }

    /// Opens a store on the database (each call a new connection, as another process would have).
    public func open() async throws -> any HooklineStore {
        switch backend {
        case .sqlite: return try SQLiteStore(path: location, secretKey: secretKey)
        case .postgres: return try await PostgresStore(url: location, secretKey: secretKey)
        }
    }

    /// Deletes the database.
    public func remove() async {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
        if let databaseName, let server = StoreBackend.postgresURL {
            try? await Self.admin(server, "DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)")
        }
    }

    /// Runs one statement on the server's maintenance database.
    static func admin(_ server: String, _ sql: String) async throws {
        guard let components = URLComponents(string: server), let host = components.host else {
            throw TestDatabaseError("HOOKLINE_TEST_POSTGRES is not a postgres:// URL: \(server)")
        }
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .critical
        let client = PostgresClient(
            configuration: .init(host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
                                 password: components.password, database: "postgres", tls: .disable),
            backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Operations {
    /// Operations as the CLI runs them, with their info lines kept out of the test output (set
    /// HOOKLINE_TEST_LOG=info to see them).
    public static func quiet(_ store: any HooklineStore, actor: AuditActor = .cli) -> Operations {
        var logger = Logger(label: "test.operations")
        logger.logLevel = ProcessInfo.processInfo.environment["HOOKLINE_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return Operations(store: store, actor: actor, logger: logger)
    }
}

extension TestDatabase {
    /// A new database of the back end, a store on it and quiet operations as the CLI runs them;
    /// the database is removed afterwards, whether `body` throws or not.
    public static func withStore(
        _ backend: StoreBackend, _ body: (TestDatabase, any HooklineStore, Operations) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.make(backend)
        let store = try await database.open()
        do {
            try await body(database, store, Operations.quiet(store))
        } catch {
            try? await store.close()
            await database.remove()
            throw error
        }
        try? await store.close()
        await database.remove()
    }
}
