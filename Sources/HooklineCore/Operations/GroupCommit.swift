import Foundation

/// Commits events that arrive one by one together: while one transaction commits, the events that
/// arrive meanwhile wait and go into the next one.
///
/// A commit costs one `fsync` whether it holds one event or a hundred, so under load the ingest API
/// accepts many times more single events per second; alone, an event is committed at once. Each
/// caller returns only after the transaction holding its event has committed.
public actor GroupCommit {
    let store: any HooklineStore
    /// Events per transaction at most.
    public let maximumBatch: Int
    var waiting: [(event: Event, reply: CheckedContinuation<Result<IngestResult, HooklineError>, Never>)] = []
    var committing = false
    var inTransaction = 0
    /// Transactions committed (or failed) so far.
    public private(set) var transactions = 0
    /// Events waiting for their transaction, or in one that has not committed yet.
    public var pending: Int { waiting.count + inTransaction }

    public init(store: any HooklineStore, maximumBatch: Int = 500) {
        self.store = store
        self.maximumBatch = max(1, maximumBatch)
    }

    /// Stores the event (or finds the stored one with its id), in a transaction shared with others.
    public func ingest(_ event: Event) async throws(HooklineError) -> IngestResult {
        let result = await withCheckedContinuation { reply in
            waiting.append((event, reply))
            if !committing {
                committing = true
                Task { await self.commitAll() }
            }
        }
        return try result.get()
    }

    func commitAll() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(maximumBatch))
            waiting.removeFirst(batch.count)
            inTransaction = batch.count
            defer {
                inTransaction = 0
                transactions += 1
            }
            do {
                let results = try await store.ingestBatch(batch.map(\.event))
                for (item, result) in zip(batch, results) { item.reply.resume(returning: .success(result)) }
            } catch {
                for item in batch { item.reply.resume(returning: .failure(error)) }
            }
        }
        committing = false
    }
}
