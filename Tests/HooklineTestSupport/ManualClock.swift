import Foundation
import HooklineCore
import Synchronization

/// A clock that moves only when a test advances it: `sleep(until:)` returns once ``advance(by:)``
/// has carried `now()` to the deadline (or the sleeping task is cancelled).
public final class ManualClock: HooklineClock {
    private struct Sleeper {
        var id: Int
        var deadline: Date
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now: Date
        var sleepers: [Sleeper] = []
        var nextID = 0
    }

    private let state: Mutex<State>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_764_000_000)) {
        state = Mutex(State(now: start))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many tasks are waiting for a time to come.
    public var sleeping: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Date) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let woken = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index).continuation
            }
            woken?.resume()
        }
    }

    /// The earliest deadline a task waits for, if any does.
    public var nextDeadline: Date? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    /// Moves the time to the earliest deadline a task waits for and wakes it (and every other
    /// sleeper due then). Returns false, leaving the time alone, when no task waits.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let next = nextDeadline else { return false }
        advance(by: max(0, next.timeIntervalSince(now())))
        return true
    }

    /// Runs `body` while time flows: whenever a task waits on this clock and `isAtRest` says the
    /// work waits only for time, the time jumps to the earliest deadline. Time passes as fast as
    /// the tasks wait for it, and never while a request is out, so a retry an hour away comes at
    /// once and an attempt in flight takes no time at all.
    public func flowing<T>(isAtRest: @escaping @Sendable () async -> Bool = { true }, _ body: () async throws -> T) async rethrows -> T {
        let driver = Task {
            while !Task.isCancelled {
                if sleeping > 0, await isAtRest() { advanceToNextDeadline() }
                // A real pause, so that the tasks woken and the sockets they use make progress.
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        defer { driver.cancel() }
        return try await body()
    }

    /// Moves the time on and wakes every sleeper whose deadline has come.
    public func advance(by seconds: TimeInterval) {
        let due = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }
}
