import ArgumentParser
import Foundation
import HooklineCore

/// How a setting's text (from its flag or from the config file) becomes its value.
struct SettingKind<Value: Sendable>: Sendable {
    /// The placeholder in `--help`: `<duration>`.
    let valueName: String
    /// Parses `text`; `source` names where it came from (`--timeout`, `timeout in serve.yaml`) for the error.
    let parse: @Sendable (_ text: String, _ source: String) throws(HooklineError) -> Value
    /// How a default is shown in `--help`.
    let format: @Sendable (Value) -> String
}

extension SettingKind where Value == TimeInterval {
    static let duration = SettingKind(valueName: "duration", parse: { text, source throws(HooklineError) in
        guard let seconds = DurationText.parse(text) else {
            throw .invalidInput("\(source) '\(text)' is not a duration; write it with a unit, such as 500ms, 15s, 5m, 2h or 30d.")
        }
        return seconds
    }, format: { DurationText.format($0) })
}

extension SettingKind where Value == TimeInterval? {
    /// A duration, or `off`.
    static let durationOrOff = SettingKind(valueName: "duration", parse: { text, source throws(HooklineError) in
        if text == "off" { return nil }
        guard let seconds = DurationText.parse(text), seconds >= 1 else {
            throw .invalidInput("\(source) '\(text)' must be a duration of at least 1s, such as 30d, or 'off' to keep everything.")
        }
        return seconds
    }, format: { $0.map { DurationText.format($0) } ?? "off" })
}

extension SettingKind where Value == [TimeInterval] {
    static let schedule = SettingKind(valueName: "0s,5s,…", parse: { text, _ throws(HooklineError) in
        try RetryPolicy.parseSchedule(text)
    }, format: { $0.map { DurationText.format($0) }.joined(separator: ",") })
}

extension SettingKind where Value == Int {
    static let count = SettingKind(valueName: "n", parse: { text, source throws(HooklineError) in
        guard let value = Int(text) else { throw .invalidInput("\(source) '\(text)' is not a whole number.") }
        return value
    }, format: { String($0) })

    static let bytes = SettingKind(valueName: "bytes", parse: count.parse, format: count.format)
}

extension SettingKind where Value == Double {
    static func number(_ valueName: String) -> SettingKind {
        SettingKind(valueName: valueName, parse: { text, source throws(HooklineError) in
            guard let value = Double(text), value.isFinite else { throw .invalidInput("\(source) '\(text)' is not a number.") }
            return value
        }, format: { $0.formatted() })
    }
}

extension SettingKind where Value == String {
    static func text(_ valueName: String) -> SettingKind {
        SettingKind(valueName: valueName, parse: { text, source throws(HooklineError) in
            guard !text.isEmpty else { throw .invalidInput("\(source) is empty; give it a value or leave it out.") }
            return text
        }, format: { $0 })
    }
}

extension SettingKind where Value == Bool {
    static let toggle = SettingKind(valueName: "true|false", parse: { text, source throws(HooklineError) in
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw .invalidInput("\(source) '\(text)' is not true or false.")
        }
    }, format: { String($0) })
}

extension SettingKind where Value == LogFormat {
    static let logFormat = SettingKind(valueName: "format", parse: { text, source throws(HooklineError) in
        guard let format = LogFormat(rawValue: text) else { throw .invalidInput("\(source) must be text or json, not '\(text)'.") }
        return format
    }, format: { $0.rawValue })
}

/// `--log-format`: how `serve` writes its log lines.
enum LogFormat: String, Sendable {
    case text
    /// One JSON object per line, for log collectors.
    case json
}

/// One setting of `hookline serve`, defined once: its name (the flag is `--name`, the config file's
/// key `name` with underscores), the kind of value, the default and the help. The flag's help,
/// the config file's keys and checks, and the error sentences all derive from this.
struct ServeSetting<Value: Sendable>: Sendable {
    let name: String
    let kind: SettingKind<Value>
    /// nil when the setting has no default (off unless given).
    let defaultValue: Value?
    let summary: String
    /// A rule the value must satisfy, as the end of a sentence (`"must be at least 1"`), or nil.
    let rule: @Sendable (Value) -> String?

    init(_ name: String, _ kind: SettingKind<Value>, default defaultValue: Value?, _ summary: String,
         rule: @escaping @Sendable (Value) -> String? = { _ in nil }) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
        self.rule = rule
    }

    var flag: String { "--\(name)" }
    var key: String { name.replacingOccurrences(of: "-", with: "_") }

    /// The flag's `--help` line, its default included.
    var help: ArgumentHelp {
        guard let defaultValue else { return ArgumentHelp(summary, valueName: kind.valueName) }
        let sentence = summary.hasSuffix(".") ? String(summary.dropLast()) : summary
        return ArgumentHelp("\(sentence) (default \(kind.format(defaultValue))).", valueName: kind.valueName)
    }

    /// The value for the given flag text, else the file's, else the default; checked by its rule.
    func resolve(_ flagText: String?, _ file: ServeSettings) throws(HooklineError) -> Value? {
        let source: String, text: String
        if let flagText {
            (source, text) = (flag, flagText)
        } else if let entry = file.values[key] {
            (source, text) = ("\(file.path), line \(entry.line): \(key)", entry.text)
        } else {
            return defaultValue
        }
        let value = try kind.parse(text, source)
        if let broken = rule(value) { throw .invalidInput("\(source) is '\(text)'; it \(broken).") }
        return value
    }

    /// Like ``resolve(_:_:)``, for a setting that has a default.
    func value(_ flagText: String?, _ file: ServeSettings) throws(HooklineError) -> Value {
        guard let value = try resolve(flagText, file) ?? defaultValue else {
            preconditionFailure("\(name) has no default; use resolve")
        }
        return value
    }

    /// A switch: on when its flag is given, else as the file says, else off.
    func isOn(_ flag: Bool, _ file: ServeSettings) throws(HooklineError) -> Bool where Value == Bool {
        if flag { return true }
        return try resolve(nil, file) ?? false
    }
}

/// A setting of any value type: what the config file checks its keys against.
struct AnyServeSetting: Sendable {
    let key: String
    /// Parses the file's text for this key, throwing the sentence for a bad value.
    let check: @Sendable (_ text: String, _ source: String) throws(HooklineError) -> Void

    init<Value>(_ setting: ServeSetting<Value>) {
        key = setting.key
        check = { text, source throws(HooklineError) in _ = try setting.kind.parse(text, source) }
    }
}

private func atLeast<N: Comparable & Sendable>(_ minimum: N, _ shown: String) -> @Sendable (N) -> String? {
    { $0 >= minimum ? nil : "must be at least \(shown)" }
}

private let aboveZero: @Sendable (TimeInterval) -> String? = { $0 > 0 ? nil : "must be above 0" }

/// Every setting of `hookline serve`.
enum ServeSettingList {
    static let db = ServeSetting("db", .text("path"), default: nil, "The SQLite database file, or a postgres:// URL.")
    static let retrySchedule = ServeSetting(
        "retry-schedule", .schedule, default: [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000], "Delay before each attempt.")
    static let timeout = ServeSetting("timeout", .duration, default: 15, "Whole-request time limit.", rule: aboveZero)
    static let connectTimeout = ServeSetting("connect-timeout", .duration, default: 5, "Time limit to connect.", rule: aboveZero)
    static let allowPrivateNetworks = ServeSetting(
        "allow-private-networks", .toggle, default: false, "Deliver to loopback, private and link-local addresses too.")
    static let concurrency = ServeSetting("concurrency", .count, default: 256, "Requests in flight in all at most.", rule: atLeast(1, "1"))
    static let endpointConcurrency = ServeSetting(
        "endpoint-concurrency", .count, default: 8, "Requests in flight per endpoint at most.", rule: atLeast(1, "1"))
    static let lease = ServeSetting(
        "lease", .duration, default: 60, "How long a claim holds before another dispatcher may retry it.", rule: aboveZero)
    static let breakerFailures = ServeSetting(
        "breaker-failures", .count, default: 5, "Consecutive failures that open a breaker.", rule: atLeast(1, "1"))
    static let breakerRatio = ServeSetting(
        "breaker-ratio", .number("0-1"), default: 0.5, "Failure ratio over the window that opens a breaker.",
        rule: { $0 > 0 && $0 <= 1 ? nil : "must be above 0 and at most 1" })
    static let breakerMinimumAttempts = ServeSetting(
        "breaker-min-attempts", .count, default: 20, "Attempts in the window before the ratio counts.", rule: atLeast(1, "1"))
    static let breakerWindow = ServeSetting("breaker-window", .duration, default: 300, "The breaker's window.", rule: aboveZero)
    static let breakerOpen = ServeSetting(
        "breaker-open", .duration, default: 30, "How long a breaker stays open at first, doubling per re-trip.", rule: aboveZero)
    static let breakerMaximumOpen = ServeSetting(
        "breaker-max-open", .duration, default: 600, "The longest a breaker stays open.", rule: aboveZero)
    static let autoDisableAfter = ServeSetting(
        "auto-disable-after", .duration, default: 5 * 86_400, "Disable an endpoint after nothing but failures for this long.",
        rule: aboveZero)
    static let listen = ServeSetting(
        "listen", .text("addr:port"), default: nil, "Serve the ingest API, health and metrics on this address (off unless given).")
    static let apiToken = ServeSetting(
        "api-token", .text("token"), default: nil, "The bearer token producers must send (default: $HOOKLINE_API_TOKEN).")
    static let insecureNoAuth = ServeSetting(
        "insecure-no-auth", .toggle, default: false, "Accept events without a token (loopback addresses only).")
    static let maxBody = ServeSetting(
        "max-body", .bytes, default: 256 * 1024, "The largest event request body in bytes.",
        rule: { (1024...64 * 1024 * 1024).contains($0) ? nil : "must be between 1024 and 67108864 bytes" })
    static let ingestRateLimit = ServeSetting(
        "ingest-rate-limit", .number("n"), default: nil, "Events per second accepted through the API at most (default: no limit).",
        rule: { $0 > 0 ? nil : "must be above 0 events per second" })
    static let maxConnections = ServeSetting(
        "max-connections", .count, default: 4096, "Open API connections at most; more are closed at once and counted in /metrics.",
        rule: atLeast(1, "1"))
    static let readTimeout = ServeSetting(
        "read-timeout", .duration, default: 30, "Time limit for a request's headers and body to arrive, however slowly.",
        rule: aboveZero)
    static let idleTimeout = ServeSetting(
        "idle-timeout", .duration, default: 75, "Close an API connection idle between requests for this long.", rule: aboveZero)
    static let logFormat = ServeSetting("log-format", .logFormat, default: .text, "text, or json for one object per line.")
    static let alertURL = ServeSetting(
        "alert-url", .text("url"), default: nil,
        "Post alerts here (a Slack incoming webhook works): breakers opening and closing, endpoints disabled, permanent failures (grouped, at most one a minute per endpoint).")
    static let proxy = ServeSetting(
        "proxy", .text("url"), default: nil,
        "Send deliveries and test sends through this HTTP proxy (HTTPS tunnels with CONNECT), for a fixed set of source addresses.")
    static let proxyFromEnvironment = ServeSetting(
        "proxy-from-environment", .toggle, default: false, "Use the proxy in $HTTPS_PROXY when no proxy is given.")
    static let otelEndpoint = ServeSetting(
        "otel-endpoint", .text("url"), default: nil,
        "Export OpenTelemetry traces over OTLP/HTTP to this collector (http://host:4318): a span per ingest request and per attempt.")
    static let propagateTrace = ServeSetting(
        "propagate-trace", .toggle, default: false, "Send each attempt's traceparent to the receiver (with --otel-endpoint).")
    static let retention = ServeSetting(
        "retention", .durationOrOff, default: .some(30 * 86_400),
        "Remove events older than this whose deliveries all succeeded, or 'off'.")

    /// Every key a config file may set.
    static let all: [AnyServeSetting] = [
        .init(db), .init(retrySchedule), .init(timeout), .init(connectTimeout), .init(allowPrivateNetworks), .init(concurrency),
        .init(endpointConcurrency), .init(lease), .init(breakerFailures), .init(breakerRatio), .init(breakerMinimumAttempts),
        .init(breakerWindow), .init(breakerOpen), .init(breakerMaximumOpen), .init(autoDisableAfter), .init(listen),
        .init(apiToken), .init(insecureNoAuth), .init(maxBody), .init(ingestRateLimit), .init(maxConnections),
        .init(readTimeout), .init(idleTimeout), .init(logFormat), .init(alertURL), .init(proxy), .init(proxyFromEnvironment), .init(retention),
        .init(otelEndpoint), .init(propagateTrace),
    ]
}
