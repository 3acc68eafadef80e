import HooklineCore

extension Operations {
    /// Accepts `count` copies of the catalog's `case.created` example, 1000 per transaction: the
    /// backlog the dispatch benchmarks deliver.
    func emitExamples(_ count: Int, traceParent: String? = nil) async throws {
        let data = try JSONValue.parse(EventCatalog.type(named: "case.created")!.exampleData)
        var emitted = 0
        while emitted < count {
            let batch = min(1000, count - emitted)
            _ = try await emitBatch(Array(repeating: EmitRequest(type: "case.created", data: data, traceParent: traceParent), count: batch))
            emitted += batch
        }
    }
}
