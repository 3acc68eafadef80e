// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Hookline",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "HooklineCore", targets: ["HooklineCore"]),
        .library(name: "HooklineSQLite", targets: ["HooklineSQLite"]),
        .library(name: "HooklinePostgres", targets: ["HooklinePostgres"]),
        .library(name: "HooklineHTTP", targets: ["HooklineHTTP"]),
        .library(name: "HooklineConsole", targets: ["HooklineConsole"]),
        .library(name: "HooklineServer", targets: ["HooklineServer"]),
        .executable(name: "hookline", targets: ["hookline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter's packages stay out of the build.
        .package(url: "https://github.com/swift-otel/swift-otel", exact: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Model, policies, planner, operations and dispatcher over seams: no database, no HTTP client.
        .target(
            name: "HooklineCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The store on an SQLite file (GRDB).
        .target(
            name: "HooklineSQLite",
            dependencies: [
                "HooklineCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C interface, for the statements run once per delivery (RawStatement).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The store on PostgreSQL (PostgresNIO).
        .target(
            name: "HooklinePostgres",
            dependencies: [
                "HooklineCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Opens whichever store a path or URL names.
        .target(name: "HooklineStores", dependencies: ["HooklineCore", "HooklineSQLite", "HooklinePostgres"]),
        // The HTTP transport the dispatcher sends with: an HTTP/1.1 client on SwiftNIO.
        .target(
            name: "HooklineHTTP",
            dependencies: [
                "HooklineCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HooklineServer",
            dependencies: [
                "HooklineCore", "HooklineHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // OpenTelemetry for `serve --otel-endpoint`: the OTLP/HTTP exporter, and the count of the
        // spans it could not send. Only the executable links it.
        .target(
            name: "HooklineTelemetry",
            dependencies: [
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Benchmarks, the demo environment and synthetic history: for `hookline bench` and
        // `hookline demo`, not in any library product.
        .target(
            name: "HooklineTools",
            dependencies: [
                "HooklineCore", "HooklineSQLite", "HooklinePostgres", "HooklineStores", "HooklineHTTP", "HooklineServer", "HooklineTelemetry",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .systemLibrary(
            name: "CNCurses",
            providers: [.apt(["libncursesw5-dev"])]
        ),
        .target(
            name: "HooklineConsole",
            dependencies: [
                "HooklineCore",
                "CNCurses",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedThemesPlugin"]
        ),
        // Compiles themes/*.yaml into HooklineConsole, so an installed binary needs no theme files.
        .executableTarget(name: "ThemeEmbedder"),
        .plugin(name: "EmbedThemesPlugin", capability: .buildTool(), dependencies: ["ThemeEmbedder"], path: "Sources/EmbedThemesPlugin"),
        .executableTarget(
            name: "hookline",
            dependencies: [
                "HooklineCore", "HooklineSQLite", "HooklinePostgres", "HooklineStores", "HooklineHTTP", "HooklineServer", "HooklineConsole",
                "HooklineTools", "HooklineTelemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Receivers that tests script (a real HTTP server, and raw sockets that misbehave), shared
        // by the dispatcher's and the command line's tests.
        .target(
            name: "HooklineTestSupport",
            dependencies: [
                "HooklineCore", "HooklineSQLite", "HooklinePostgres", "HooklineStores", "HooklineHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/HooklineTestSupport"
        ),
        .testTarget(
            name: "HooklineCoreTests",
            dependencies: ["HooklineCore", "HooklineSQLite", "HooklineTools", "HooklineTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "HooklineStoreTests",
            dependencies: ["HooklineCore", "HooklineSQLite", "HooklinePostgres", "HooklineStores", "HooklineHTTP", "HooklineTestSupport"]
        ),
        .testTarget(
            name: "HooklineConsoleTests",
            dependencies: ["HooklineConsole", "HooklineCore", "HooklineSQLite", "HooklineHTTP", "HooklineTestSupport"]
        ),
        .testTarget(
            name: "HooklineServerTests",
            dependencies: [
                "HooklineCore", "HooklineSQLite", "HooklineHTTP", "HooklineServer", "HooklineTools", "HooklineStores",
                "HooklineTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "HooklineDispatchTests",
            dependencies: [
                "HooklineCore", "HooklineSQLite", "HooklinePostgres", "HooklineHTTP", "HooklineTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "HooklineCLITests",
            dependencies: [
                "hookline", "HooklineCore", "HooklineSQLite", "HooklineStores", "HooklineServer", "HooklineTools", "HooklineTelemetry", "HooklineTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
