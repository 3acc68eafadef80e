import Logging
import ServiceLifecycle

/// A service run in the background until ``stop()``, which is a graceful shutdown, never a task
/// cancellation: a cancelled Hummingbird server drops the connections it has accepted but not yet
/// handled, and NIO traps on their unfinished writers (swift-nio #2813). For the benchmarks' and the
/// demo's own receivers.
public final class RunningService: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public init(_ service: some Service, logger: Logger = Logger(label: "hookline.service")) {
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
        self.group = group
        task = Task { try await group.run() }
    }

    /// Shuts the service down gracefully and waits for it to end.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Starts the graceful shutdown without waiting (for a `defer`).
    public func stopSoon() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }
}

/// A closure as a service: it gets the group's graceful shutdown through the task context, so a
/// Hummingbird application run inside it shuts down gracefully too.
public struct ClosureService: Service {
    let body: @Sendable () async throws -> Void

    public init(_ body: @escaping @Sendable () async throws -> Void) {
        self.body = body
    }

    public func run() async throws {
        try await body()
    }
}
