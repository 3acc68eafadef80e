import Foundation
import Logging

/// Keeps the database small while `serve` runs: prunes finished events older than the retention
/// period now and then, in short steps that leave the dispatcher's writes room between them.
public struct RetentionWorker: Sendable {
    /// Events older than this whose deliveries all succeeded are removed.
    public let retention: TimeInterval
    /// How often a pass runs: a tenth of the retention, between 1 s and 10 min.
    public let interval: TimeInterval
    /// Rest between two pruning transactions.
    public let pause: Duration
    let operations: Operations
    let logger: Logger

    /// The least rest between two pruning transactions.
    public static let defaultPause: Duration = .milliseconds(20)

    public init(operations: Operations, retention: TimeInterval, pause: Duration = RetentionWorker.defaultPause, logger: Logger = Logger(label: "hookline.retention")) {
        self.operations = operations
        self.retention = retention
        self.interval = min(600, max(1, retention / 10))
        self.pause = pause
        self.logger = logger
    }

    /// Prunes until the task is cancelled. A failed pass is logged and tried again at the next interval.
    public func run() async {
        logger.info("pruning finished events", metadata: [
            "retention.period": "\(DurationText.format(retention))", "retention.interval": "\(DurationText.format(interval))",
        ])
        while !Task.isCancelled {
            do {
                _ = try await operations.prune(olderThan: retention, pause: pause)
            } catch {
                logger.info("pruning old events failed; trying again later", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }
}
