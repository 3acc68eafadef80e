import Foundation

/// The source of the current time for everything that schedules: policies, the store, the dispatcher.
///
/// Production code uses ``SystemClock``; tests inject a clock they move by hand, so that no test sleeps.
public protocol HooklineClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
}

/// The real wall clock.
public struct SystemClock: HooklineClock {
    public init() {}
    public func now() -> Date { Date() }
}
