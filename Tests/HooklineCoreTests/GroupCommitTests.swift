import Foundation
@testable import HooklineCore
import HooklineTools
import Testing

@Suite struct GroupCommitTests {
    @Test func eventsArrivingDuringACommitShareOneTransactionAndAllAreStored() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        _ = try await fixture.operations.addEndpoint(url: "https://a.example.com/hook")
        _ = try await fixture.operations.addEndpoint(url: "https://b.example.com/hook")
        let group = GroupCommit(store: fixture.store)
        let operations = fixture.grouped(group)

        // Another writer holds the database, as a long commit would, while 200 events arrive.
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let gate = DispatchSemaphore(value: 0)
        let holder = Task {
            try await fixture.store.write { _ in
                enteredContinuation.yield()
                gate.wait()
            }
        }
        var iterator = entered.makeAsyncIterator()
        await iterator.next()
        let results = Task {
            try await withThrowingTaskGroup(of: IngestResult.self) { tasks in
                for _ in 0..<200 {
                    tasks.addTask { try await operations.emit(type: "case.created", data: Examples.data("case.created")) }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
        }
        while await group.pending < 200 { try await Task.sleep(for: .milliseconds(5)) }
        gate.signal()
        try await holder.value
        let stored = try await results.value

        #expect(stored.count == 200)
        #expect(stored.allSatisfy { $0.wasCreated && $0.summary.deliveries == 2 })
        #expect(Set(stored.map(\.summary.event.id)).count == 200)
        #expect(try await fixture.store.tableCounts() == (events: 200, deliveries: 400))
        #expect(await group.transactions <= 2, "the events waiting behind the other writer were committed together")
    }

    @Test func aRepeatedIdInTheSameGroupIsStoredOnce() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        _ = try await fixture.operations.addEndpoint(url: "https://a.example.com/hook")
        let operations = fixture.grouped(GroupCommit(store: fixture.store))
        let results = try await withThrowingTaskGroup(of: IngestResult.self) { tasks in
            for _ in 0..<20 {
                tasks.addTask { try await operations.emit(type: "case.created", data: Examples.data("case.created"), id: "evt_same") }
            }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter(\.wasCreated).count == 1)
        #expect(results.allSatisfy { $0.summary.event.id == "evt_same" && $0.summary.deliveries == 1 })
        #expect(try await fixture.store.tableCounts() == (events: 1, deliveries: 1))
    }
}

extension StoreFixture {
    /// The fixture's operations, committing single events through `group`.
    func grouped(_ group: GroupCommit) -> Operations {
        var operations = self.operations
        operations.groupCommit = group
        return operations
    }
}
