import Foundation

/// When to try a failed delivery again, and when to give up.
///
/// The schedule lists the delay before each attempt: entry 0 before the first (normally `0s`), entry
/// 1 before the second, and so on; when the last attempt fails the delivery is `failed`. Each delay
/// gets ±`jitter` at random so that retries of many deliveries spread out. A receiver's `Retry-After`
/// (on 429 or 503) lengthens the wait up to `retryAfterCap`; after a 429 or a timeout the wait is at
/// least `throttleFloor`.
public struct RetryPolicy: Sendable, Hashable {
    /// The guide's exponential schedule: about 27.5 hours over 8 attempts.
    public static let defaultSchedule: [TimeInterval] = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000]

    public var schedule: [TimeInterval]
    /// The fraction of each delay added or removed at random (0.2 = ±20 %).
    public var jitter: Double
    /// The longest wait a `Retry-After` header can impose.
    public var retryAfterCap: TimeInterval
    /// The shortest wait after a 429 or a timeout.
    public var throttleFloor: TimeInterval

    public init(
        schedule: [TimeInterval] = RetryPolicy.defaultSchedule, jitter: Double = 0.2,
        retryAfterCap: TimeInterval = 3600, throttleFloor: TimeInterval = 60
    ) {
        self.schedule = schedule
        self.jitter = jitter
        self.retryAfterCap = retryAfterCap
        self.throttleFloor = throttleFloor
    }

    /// The attempts a delivery gets on schedule.
    public var maximumAttempts: Int { schedule.count }

    /// The wait before the next attempt after attempt number `attempt` (1-based) failed, or nil when
    /// the schedule is exhausted and the delivery fails.
    ///
    /// - Parameters:
    ///   - retryAfter: the receiver's `Retry-After`, already turned into seconds from now.
    ///   - throttled: whether the failure was a 429 or a timeout.
    ///   - random: a value in 0..<1 that picks the jitter; injected so that tests are exact.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, throttled: Bool, random: Double) -> TimeInterval? {
        guard attempt < schedule.count else { return nil }
        let base = schedule[max(0, attempt)]
        var delay = base * (1 + jitter * (2 * random - 1))
        if let retryAfter {
            delay = max(delay, min(max(0, retryAfter), retryAfterCap))
        }
        if throttled {
            delay = max(delay, throttleFloor)
        }
        return max(0, delay)
    }

    /// Parses a schedule such as `0s,5s,5m,30m,2h` (units ms, s, m, h, d).
    public static func parseSchedule(_ text: String) throws(HooklineError) -> [TimeInterval] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        var schedule: [TimeInterval] = []
        for item in items {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let seconds = DurationText.parse(trimmed) else {
                throw .invalidInput("'\(trimmed)' in the retry schedule is not a duration; write delays such as 0s,5s,5m,30m,2h.")
            }
            schedule.append(seconds)
        }
        guard !schedule.isEmpty, schedule.count <= 50 else {
            throw .invalidInput("The retry schedule must list 1 to 50 delays, such as 0s,5s,5m,30m,2h.")
        }
        return schedule
    }

    /// Seconds from `now` that a `Retry-After` value asks for: delta-seconds or an HTTP date.
    public static func retryAfterSeconds(_ value: String, now: Date) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) {
                return max(0, date.timeIntervalSince(now))
            }
        }
        return nil
    }
}

/// Durations as operators write them: `500ms`, `5s`, `5m`, `2h`, `30d`.
public enum DurationText {
    /// Seconds for `text`, or nil when it is not a non-negative number with a unit.
    public static func parse(_ text: String) -> TimeInterval? {
        let units: [(String, TimeInterval)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  let value = Double(number), value.isFinite, value >= 0
            else { return nil }
            return value * factor
        }
        return nil
    }

    /// `1h30m`-style short text for displays: the two largest units.
    public static func format(_ seconds: TimeInterval) -> String {
        if seconds <= 0 { return "0s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        var rest = Int(seconds.rounded())
        let days = rest / 86_400; rest %= 86_400
        let hours = rest / 3600; rest %= 3600
        let minutes = rest / 60
        let secs = rest % 60
        if days > 0 { return hours > 0 ? "\(days)d\(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h\(minutes)m" : "\(hours)h" }
        if minutes > 0 { return secs > 0 ? "\(minutes)m\(secs)s" : "\(minutes)m" }
        return "\(secs)s"
    }
}
