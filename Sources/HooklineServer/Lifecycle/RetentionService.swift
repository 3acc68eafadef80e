import HooklineCore
import ServiceLifecycle

/// The retention worker as a service: it prunes until graceful shutdown, then stops between batches.
public struct RetentionService: Service {
    public let worker: RetentionWorker

    public init(_ worker: RetentionWorker) {
        self.worker = worker
    }

    public func run() async {
        await cancelWhenGracefulShutdown { await worker.run() }
    }
}
