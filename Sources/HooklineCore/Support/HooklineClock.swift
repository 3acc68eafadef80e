import Foundation

/// The source of the current time for everything that schedules: policies, the store, the
/// dispatcher, the alert notifier; and the one way they wait for a time to come.
///
/// Production code uses ``SystemClock``; tests inject a clock they move by hand (a manual clock
/// whose `sleep(until:)` returns when the test advances past the deadline), so that no test
/// waits on the wall clock for an interval to pass.
public protocol HooklineClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Returns once `now()` has reached `deadline`, or at once when the task is cancelled.
    func sleep(until deadline: Date) async
}

extension HooklineClock {
    /// Sleeps for the time from `now()` to `deadline` on the wall clock.
    public func sleep(until deadline: Date) async {
        let seconds = deadline.timeIntervalSince(now())
        guard seconds > 0 else { return }
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000) + 1))
    }
}

/// The real wall clock.
public struct SystemClock: HooklineClock {
    public init() {}
    public func now() -> Date { Date() }
}
