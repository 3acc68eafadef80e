import ArgumentParser
import Foundation
import HooklineCore
import HooklinePostgres
import HooklineServer
import HooklineSQLite
import HooklineStores
import HooklineTools

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure dispatch and ingest throughput, and the console's cost on a large database.",
        discussion: """
            Measure release builds: swift build -c release, then .build/release/hookline bench …
            BENCHMARKS.md lists the commands behind every published figure.
            """,
        subcommands: [Dispatch.self, Fanout.self, Idle.self, Ingest.self, Generate.self, Console.self, List.self, Prune.self, Cluster.self])

    static func buildNote() -> String {
        #if DEBUG
        return "build: DEBUG (figures are several times slower than a release build)"
        #else
        return "build: release"
        #endif
    }

    /// A new directory under the system's temporary directory for a benchmark's databases.
    static func scratchDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "hookline-bench-\(Identifier.ulid().suffix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// This `hookline` executable, for benchmarks that run serve processes.
    static func executable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    static func megabytes(_ bytes: Int?) -> String {
        bytes.map { String(format: "%.1f MB", Double($0) / 1_048_576) } ?? "-"
    }

    struct Dispatch: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "N events to E endpoints on a local receiver, every attempt recorded; and the receiver's ceiling.")

        @Option(help: "Events to emit.") var events = 20_000
        @Option(help: "Endpoints, each subscribed to every event.") var endpoints = 4
        @Option(name: .customLong("endpoint-concurrency"), help: "Requests in flight per endpoint.") var endpointConcurrency = 8
        @Option(name: .customLong("ceiling-seconds"), help: "How long to measure the receiver's ceiling.") var ceilingSeconds = 5.0
        @Option(help: "What answers: hummingbird (in this process) or nginx (its own processes, when installed).")
        var receiver: DispatchBenchmark.Receiver = .hummingbird
        @Flag(name: .customLong("compare-tracing"), help: "Deliver the same events again with a span per attempt exported to a local OTLP sink.")
        var compareTracing = false

        func execute() async throws {
            guard events >= 1, endpoints >= 1, endpoints <= 100_000, endpointConcurrency >= 1, ceilingSeconds > 0 else {
                throw HooklineError.invalidInput("--events, --endpoints, --endpoint-concurrency and --ceiling-seconds must be positive (at most 100000 endpoints).")
            }
            let directory = try BenchCommand.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            Output.immediate("hookline bench dispatch --events \(events) --endpoints \(endpoints) --endpoint-concurrency \(endpointConcurrency) --ceiling-seconds \(ceilingSeconds) --receiver \(receiver.rawValue)\(compareTracing ? " --compare-tracing" : "")")
            Output.immediate(BenchCommand.buildNote())
            let benchmark = DispatchBenchmark(
                events: events, endpoints: endpoints, concurrencyPerEndpoint: endpointConcurrency,
                ceilingSeconds: ceilingSeconds, directory: directory, receiver: receiver, compareTracing: compareTracing)
            let report = try await benchmark.run { Output.immediate("  \($0)") }
            Output.immediate(String(format: "ingest (core, 1000 events per transaction): %.0f events/s (%d events in %.2f s)", report.ingestEventsPerSecond, report.events, report.ingestSeconds))
            Output.immediate(String(format: "dispatch: %.0f deliveries/s (%d of %d delivered in %.2f s)", report.deliveriesPerSecond, report.deliveries, events * endpoints, report.dispatchSeconds))
            if let traced = report.traced {
                Output.immediate(String(format: "dispatch with a span per attempt (OTLP/HTTP to a local sink, %d export requests): %.0f deliveries/s, %.2f of untraced",
                                        traced.exportRequests, traced.deliveriesPerSecond, traced.deliveriesPerSecond / max(1, report.deliveriesPerSecond)))
            }
            Output.immediate(String(format: "same requests, %d in flight, no store: bare async-http-client %.0f requests/s (%.1f %% of the ceiling), Hookline's transport %.0f requests/s",
                                    report.reference.concurrency, report.reference.bareClientRequestsPerSecond,
                                    report.reference.bareClientRequestsPerSecond / max(1, report.ceilingRequestsPerSecond) * 100,
                                    report.reference.transportRequestsPerSecond))
            Output.immediate(String(format: "receiver ceiling (%@, %@): %.0f requests/s", receiver.rawValue, report.ceilingTool, report.ceilingRequestsPerSecond))
            Output.immediate(String(format: "ratio deliveries/s ÷ ceiling requests/s: %.1f %%; deliveries/s ÷ bare client: %.2f", report.ratio * 100,
                                    report.deliveriesPerSecond / max(1, report.reference.bareClientRequestsPerSecond)))
            let requests = Double(events * endpoints)
            Output.immediate(String(format: "dispatcher: %.1f attempts per recording transaction, %.1f of %d requests in flight on average, %d finished requests found their lane with nothing ready",
                                    report.statistics.attemptsPerBatch, report.statistics.meanInFlight, report.reference.concurrency,
                                    report.statistics.dryLanes))
            Output.immediate(String(format: "CPU per delivery (the whole process, receiver included): %.1f µs; per request, bare client %.1f µs, Hookline's transport %.1f µs; CPU ratio bare ÷ dispatch %.2f",
                                    report.dispatchCPUSeconds / max(1, Double(report.deliveries)) * 1e6,
                                    report.reference.bareClientCPUSeconds / requests * 1e6, report.reference.transportCPUSeconds / requests * 1e6,
                                    report.reference.bareClientCPUSeconds / max(1e-9, report.dispatchCPUSeconds)))
            Output.immediate("peak resident memory of this process: \(BenchCommand.megabytes(report.peakResidentBytes))")
        }
    }

    struct Fanout: HooklineCommand {
        static let configuration = CommandConfiguration(
            commandName: "fanout",
            abstract: "One event to many endpoints: time to create and attempt every delivery, alone and beside a hot endpoint's backlog.",
            discussion: """
                Each endpoint count is a run of its own: one hot endpoint and N quiet ones on a local receiver. \
                The quiet endpoints' first-attempt latency is measured for one event with nothing else to do, \
                then again while the hot endpoint works through --backlog deliveries.
                """)

        @Option(help: "Quiet endpoint counts to measure, comma-separated (each at most 100,000).") var endpoints = "10,1000,10000"
        @Option(help: "Deliveries queued for the hot endpoint before the second fan-out.") var backlog = 50_000

        func execute() async throws {
            let counts = endpoints.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.count == endpoints.split(separator: ",").count, counts.allSatisfy({ (1...100_000).contains($0) }) else {
                throw HooklineError.invalidInput("--endpoints takes counts from 1 to 100000 separated by commas, such as 10,1000,10000.")
            }
            guard backlog >= 100, backlog <= 10_000_000 else {
                throw HooklineError.invalidInput("--backlog must be between 100 and 10000000 deliveries.")
            }
            Output.immediate("hookline bench fanout --endpoints \(endpoints) --backlog \(backlog)")
            Output.immediate(BenchCommand.buildNote())
            for count in counts {
                let directory = try BenchCommand.scratchDirectory()
                defer { try? FileManager.default.removeItem(atPath: directory) }
                let report = try await FanoutBenchmark(endpoints: count, backlog: backlog, directory: directory).run { Output.immediate("  \($0)") }
                for (name, wave) in [("alone", report.alone), ("beside a \(backlog)-delivery backlog", report.besideBacklog)] {
                    Output.immediate(String(
                        format: "%d endpoints, %@: %d deliveries created in %.1f ms, all attempted in %.2f s; first attempt p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                        count, name, count, wave.createMilliseconds, wave.allAttemptedSeconds, wave.p50Milliseconds, wave.p99Milliseconds, wave.maxMilliseconds))
                }
                Output.immediate("  the hot endpoint still had \(report.backlogLeft) deliveries pending; peak resident memory \(BenchCommand.megabytes(report.peakResidentBytes))")
            }
        }
    }

    struct Idle: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "CPU time and resident memory of an idle serve process over few and over many endpoints.")

        @Option(help: "Endpoint counts to measure, comma-separated.") var endpoints = "10,100000"
        @Option(help: "Seconds to let serve settle before measuring.") var warmUp = 5.0
        @Option(help: "Seconds to measure.") var seconds = 30.0
        @Option(name: .customLong("serve-binary"), help: ArgumentHelp("The hookline binary to run as serve (default: this one), to compare builds.", valueName: "path"))
        var serveBinary: String?

        func execute() async throws {
            let counts = endpoints.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.count == endpoints.split(separator: ",").count, counts.allSatisfy({ (1...1_000_000).contains($0) }) else {
                throw HooklineError.invalidInput("--endpoints takes counts from 1 to 1000000 separated by commas, such as 10,100000.")
            }
            guard warmUp >= 0, seconds > 0 else { throw HooklineError.invalidInput("--warm-up must be 0 or more and --seconds above 0.") }
            if let serveBinary, !FileManager.default.isExecutableFile(atPath: serveBinary) {
                throw HooklineError.invalidInput("--serve-binary '\(serveBinary)' is not an executable file.")
            }
            Output.immediate("hookline bench idle --endpoints \(endpoints) --warm-up \(warmUp) --seconds \(seconds)" + (serveBinary.map { " --serve-binary \($0)" } ?? ""))
            Output.immediate(BenchCommand.buildNote())
            let directory = try BenchCommand.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let executable = serveBinary ?? BenchCommand.executable()
            let runs = try await IdleBenchmark(endpointCounts: counts, warmUpSeconds: warmUp, seconds: seconds, executable: executable, directory: directory)
                .run { Output.immediate("  \($0)") }
            for run in runs {
                Output.immediate(String(format: "idle serve over %d endpoints: %.2f s CPU in %.1f s (%.2f %% of a core), resident memory %@",
                                        run.endpoints, run.cpuSeconds, run.seconds, run.cpuPercent, BenchCommand.megabytes(run.residentBytes)))
            }
        }
    }

    struct Ingest: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events through the ingest API (single and batch), and ingest → first attempt latency at a steady rate.")

        @Option(help: "How long each throughput run lasts, in seconds.") var seconds = 5.0
        @Option(help: "Concurrent connections sending single events.") var connections = 64
        @Option(name: .customLong("batch-size"), help: "Events per batch request (at most 1000).") var batchSize = 1000
        @Option(name: .customLong("batch-connections"), help: "Concurrent connections sending batches.") var batchConnections = 4
        @Option(help: "Endpoints, each subscribed to every event.") var endpoints = 4
        @Option(help: "Events per second during the latency run.") var rate = 500.0
        @Option(name: .customLong("latency-seconds"), help: "How long the latency run lasts, in seconds.") var latencySeconds = 10.0
        @Option(help: "Tenants, each with --endpoints endpoints, the events spread over them in turn (0: everything in 'default').")
        var tenants = 0

        func execute() async throws {
            guard tenants >= 0, tenants <= 10_000 else {
                throw HooklineError.invalidInput("--tenants must be between 0 and 10000.")
            }
            guard seconds > 0, latencySeconds > 0, rate > 0, rate <= 100_000, connections >= 1, connections <= 1000,
                  batchConnections >= 1, batchConnections <= 1000, endpoints >= 1, endpoints <= 1000 else {
                throw HooklineError.invalidInput("--seconds, --latency-seconds, --rate, --connections, --batch-connections and --endpoints must be positive (at most 100000 events/s and 1000 connections or endpoints).")
            }
            guard batchSize >= 1, batchSize <= 1000 else {
                throw HooklineError.invalidInput("--batch-size must be between 1 and 1000, the ingest API's limit per batch.")
            }
            let directory = try BenchCommand.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            Output.immediate("hookline bench ingest --seconds \(seconds) --connections \(connections) --batch-size \(batchSize) --batch-connections \(batchConnections) --endpoints \(endpoints) --rate \(rate) --latency-seconds \(latencySeconds) --tenants \(tenants)")
            Output.immediate(BenchCommand.buildNote())
            let benchmark = IngestBenchmark(
                seconds: seconds, connections: connections, batchSize: batchSize, batchConnections: batchConnections,
                endpoints: endpoints, rate: rate, latencySeconds: latencySeconds, tenants: tenants, directory: directory)
            let report = try await benchmark.run { Output.immediate("  \($0)") }
            for (name, run) in [("single events (POST /v1/events)", report.single), ("batches (POST /v1/events/batch)", report.batch)] {
                Output.immediate(String(format: "%@, %@: %.0f events/s committed with fan-out to %d%@ (%d events, %.0f requests/s, %d failed requests)",
                                        name, run.tool, run.eventsPerSecond, endpoints, tenants > 0 ? " of \(tenants) tenants' \(tenants * endpoints) endpoints" : "",
                                        run.events, run.requestsPerSecond, run.failedRequests))
            }
            Output.immediate(String(format: "ingest → first attempt at %.0f events/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d deliveries of %d events)",
                                    rate, report.latency.p50Milliseconds, report.latency.p99Milliseconds, report.latency.maxMilliseconds,
                                    report.latency.deliveries, report.latency.events))
            Output.immediate("peak resident memory of this process: \(BenchCommand.megabytes(report.peakResidentBytes))")
        }
    }

    struct Generate: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Fill a new database with a large synthetic history, for `bench console`.")

        @Option(help: "Events to create.") var events = 1_000_000
        @Option(help: "Endpoints (at most 100,000).") var endpoints = 4
        @Option(name: .customLong("fan-out"), help: "Deliveries per event, to endpoints in turn (default: every endpoint; at most 100).")
        var fanOut: Int?
        @Option(help: ArgumentHelp("The new database file.", valueName: "path")) var db: String

        func execute() async throws {
            guard events >= 1, endpoints >= 1, endpoints <= 100_000 else {
                throw HooklineError.invalidInput("--events must be positive and --endpoints between 1 and 100000.")
            }
            let fanOut = self.fanOut ?? endpoints
            guard fanOut >= 1, fanOut <= min(100, endpoints) else {
                throw HooklineError.invalidInput(self.fanOut == nil
                    ? "With more than 100 endpoints, give --fan-out (deliveries per event, at most 100): every event to all \(endpoints) would make \(events) × \(endpoints) deliveries."
                    : "--fan-out must be between 1 and \(min(100, endpoints)) (at most 100, and at most --endpoints).")
            }
            let report: @Sendable (Int) -> Void = { made in
                if made % 100_000 == 0 { Output.immediate("  \(made) events") }
            }
            let history: SQLiteStore.SyntheticHistory
            if StoreLocation.isPostgres(db) {
                let store = try await PostgresStore(url: db)
                guard try await store.endpoints().isEmpty else {
                    await store.close()
                    throw HooklineError.conflict("The PostgreSQL database has endpoints already; generate into a new database (createdb) so that no data is mixed with synthetic rows.")
                }
                Output.immediate("hookline bench generate --events \(events) --endpoints \(endpoints) --fan-out \(fanOut) --db \(store.location)")
                do {
                    history = try await store.generateHistory(events: events, endpoints: endpoints, fanOut: fanOut, progress: report)
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            } else {
                guard !FileManager.default.fileExists(atPath: db) else {
                    throw HooklineError.conflict("'\(db)' exists; generate into a new file so that no data is mixed with synthetic rows.")
                }
                let store = try SQLiteStore(path: db)
                defer { try? store.close() }
                Output.immediate("hookline bench generate --events \(events) --endpoints \(endpoints) --fan-out \(fanOut) --db \(db)")
                history = try await store.generateHistory(events: events, endpoints: endpoints, fanOut: fanOut, progress: report)
            }
            Output.immediate(String(format: "generated %d events, %d deliveries, %d attempts in %.1f s", history.events, history.deliveries, history.attempts, history.seconds))
        }
    }

    struct Prune: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest → first attempt latency on a large database, alone and while a pruning pass runs.",
            discussion: "The database is pruned: give a copy of one made by `bench generate`.")

        @Option(help: ArgumentHelp("A database made by `bench generate` (it is changed).", valueName: "path")) var db: String
        @Option(name: .customLong("older-than"), help: ArgumentHelp("What the pass prunes.", valueName: "duration")) var olderThan = "15d"
        @Option(help: "Events per second during each latency run.") var rate = 500.0
        @Option(help: "How long each latency run lasts, in seconds.") var seconds = 20.0
        @Option(help: "Endpoints (new, on a local receiver), each subscribed to every event.") var endpoints = 4

        func execute() async throws {
            let age = try DurationOption.seconds(olderThan, flag: "older-than")
            guard rate > 0, rate <= 100_000, seconds > 0, endpoints >= 1, endpoints <= 100 else {
                throw HooklineError.invalidInput("--rate, --seconds and --endpoints must be positive (at most 100000 events/s and 100 endpoints).")
            }
            guard FileManager.default.fileExists(atPath: db) else { throw HooklineError.databaseMissing(path: db) }
            Output.immediate("hookline bench prune --db \(db) --older-than \(olderThan) --rate \(rate) --seconds \(seconds) --endpoints \(endpoints)")
            Output.immediate(BenchCommand.buildNote())
            let report = try await PruneBenchmark(path: db, olderThan: age, rate: rate, seconds: seconds, endpoints: endpoints)
                .run { Output.immediate("  \($0)") }
            for (name, latency) in [("alone", report.alone), ("while pruning", report.whilePruning)] {
                Output.immediate(String(format: "ingest → first attempt, %@: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d deliveries)",
                                        name, latency.p50Milliseconds, latency.p99Milliseconds, latency.maxMilliseconds, latency.deliveries))
            }
            let c = report.prune.counts
            Output.immediate(String(format: "pruned %d events, %d deliveries, %d attempts in %.1f s: %d transactions, the longest %.0f ms; %@ given back",
                                    c.events, c.deliveries, c.attempts, report.pruneSeconds, report.prune.steps, report.prune.longestStep.milliseconds,
                                    StorageSize.format(report.prune.freedBytes ?? 0)))
        }
    }

    struct Cluster: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dispatch throughput of 1, 2 and 3 serve processes sharing one PostgreSQL database.",
            discussion: "The database is emptied between runs: give one made for the benchmark (createdb hookline_bench).")

        @Option(help: ArgumentHelp("A PostgreSQL database for the benchmark (it is emptied).", valueName: "postgres://…")) var db: String
        @Option(help: "Node counts to measure, comma-separated.") var nodes = "1,2,3"
        @Option(help: "Events to emit per run.") var events = 20_000
        @Option(help: "Endpoints, each subscribed to every event.") var endpoints = 4

        func execute() async throws {
            guard StoreLocation.isPostgres(db) else {
                throw HooklineError.invalidInput("--db must be a postgres:// URL of a database made for the benchmark.")
            }
            let counts = nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ (1...16).contains($0) }), events >= 1, endpoints >= 1, endpoints <= 100 else {
                throw HooklineError.invalidInput("--nodes takes counts from 1 to 16 such as 1,2,3; --events and --endpoints must be positive.")
            }
            guard let key = ProcessInfo.processInfo.environment[SecretBox.environmentVariable], !key.isEmpty else {
                throw HooklineError.invalidInput("Set \(SecretBox.environmentVariable) (openssl rand -hex 32): the nodes share it.")
            }
            Output.immediate("hookline bench cluster --db \(db.replacingOccurrences(of: #":[^:@/]*@"#, with: "@", options: .regularExpression)) --nodes \(nodes) --events \(events) --endpoints \(endpoints)")
            Output.immediate(BenchCommand.buildNote())
            let executable = BenchCommand.executable()
            let runs = try await ClusterBenchmark(url: db, executable: executable, nodeCounts: counts, events: events, endpoints: endpoints, secretKey: key)
                .run { Output.immediate("  \($0)") }
            for run in runs {
                Output.immediate(String(format: "%d node%@: %.0f deliveries/s (%d in %.1f s)", run.nodes, run.nodes == 1 ? "" : "s",
                                        run.deliveriesPerSecond, run.deliveries, run.seconds))
            }
        }
    }

    struct Console: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time one console frame's data over many refreshes (the grid, the attempts view, the attempts view with :since), and resident memory.")

        @Option(help: ArgumentHelp("A database, for example one made by `bench generate`.", valueName: "path")) var db: String
        @Option(help: "Refreshes to time.") var refreshes = 100
        @Option(help: "Rows per pane.") var rows = 40
        @Option(help: ArgumentHelp("Scope every frame to this tenant, as :tenant does.", valueName: "id")) var tenant: String?

        func execute() async throws {
            guard refreshes >= 1, rows >= 1 else { throw HooklineError.invalidInput("--refreshes and --rows must be positive.") }
            Output.immediate("hookline bench console --db \(db) --refreshes \(refreshes) --rows \(rows)" + (tenant.map { " --tenant \($0)" } ?? ""))
            Output.immediate(BenchCommand.buildNote())
            let report = try await ConsoleBenchmark(path: db, refreshes: refreshes, rows: rows, tenant: tenant).run()
            Output.immediate("database: \(report.events) events, \(report.deliveries) deliveries")
            for timing in report.timings {
                Output.immediate(String(format: "frame data, %@: p50 %.2f ms, p99 %.2f ms over %d refreshes (%d attempts shown)",
                                        timing.view, timing.p50Milliseconds, timing.p99Milliseconds, refreshes, timing.attempts))
            }
            Output.immediate("resident memory after the refreshes: \(BenchCommand.megabytes(report.residentBytes))")
        }
    }

    struct List: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the management API's list calls (first pages, cursor walks, filters) on a large database, over HTTP.")

        @Option(help: ArgumentHelp("A database, for example one made by `bench generate`.", valueName: "path")) var db: String
        @Option(help: "Calls timed per query (pages, for a walk).") var calls = 200
        @Option(help: "Rows per page (1 to 1000).") var limit = 100

        func execute() async throws {
            guard calls >= 1, (1...1000).contains(limit) else {
                throw HooklineError.invalidInput("--calls must be positive and --limit between 1 and 1000.")
            }
            Output.immediate("hookline bench list --db \(db) --calls \(calls) --limit \(limit)")
            Output.immediate(BenchCommand.buildNote())
            let report = try await ListBenchmark(path: db, calls: calls, limit: limit).run { Output.immediate("  \($0)") }
            Output.immediate("database: \(report.events) events, \(report.deliveries) deliveries")
            for query in report.queries {
                Output.immediate(String(format: "%@: p50 %.2f ms, p99 %.2f ms (%d rows)", query.name, query.p50Milliseconds, query.p99Milliseconds, query.rows))
            }
        }
    }
}

extension DispatchBenchmark.Receiver: ExpressibleByArgument {}
