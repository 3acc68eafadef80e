import HooklineCore
import ServiceLifecycle

/// The dispatcher as a service: graceful shutdown stops claiming, lets the requests in flight
/// finish and gives back the rest; in `.drain` mode it returns by itself once nothing is left,
/// which ends the group (`successTerminationBehavior: .gracefullyShutdownGroup`).
public struct DispatcherService: Service {
    public let dispatcher: Dispatcher
    public let mode: Dispatcher.Mode

    public init(_ dispatcher: Dispatcher, mode: Dispatcher.Mode) {
        self.dispatcher = dispatcher
        self.mode = mode
    }

    public func run() async throws {
        let dispatcher = self.dispatcher
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await dispatcher.run(mode)
            } onGracefulShutdown: {
                Task { await dispatcher.stop() }
            }
        } onCancel: {
            Task { await dispatcher.stop() }
        }
    }
}
