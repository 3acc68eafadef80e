import Foundation

/// Conversions between `Date`, the store's integer milliseconds and the wire's ISO 8601 text.
public enum Timestamp {
    /// Milliseconds since the Unix epoch, as the store keeps times.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The date for a count of milliseconds since the Unix epoch.
    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `2025-10-25T10:30:00Z`: UTC, whole seconds, as the guide's envelopes carry it.
    public static func iso8601(_ date: Date) -> String {
        var seconds = time_t(floor(date.timeIntervalSince1970))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; nil for anything else.
    public static func parseISO8601(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// A time given as an ISO 8601 time, or as a duration back from `now` (`24h`); nil for anything else.
    public static func since(_ text: String, now: Date) -> Date? {
        if let seconds = DurationText.parse(text) { return now.addingTimeInterval(-seconds) }
        return parseISO8601(text)
    }
}
