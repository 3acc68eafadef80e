import Foundation
import HooklineCore
import Yams

/// `hookline serve`'s settings from a YAML file: the same names as the flags, with underscores.
///
/// Flags override the file. Unknown keys and bad values are refused with the file, the line, the
/// key and the reason.
struct ServeSettings {
    /// The keys a file may set, with the kind of value each takes.
    enum Kind { case text, duration, integer, number, boolean }

    static let keys: [String: Kind] = [
        "db": .text, "retry_schedule": .text, "timeout": .duration, "connect_timeout": .duration,
        "allow_private_networks": .boolean, "concurrency": .integer, "endpoint_concurrency": .integer,
        "lease": .duration, "breaker_failures": .integer, "breaker_ratio": .number, "breaker_min_attempts": .integer,
        "breaker_window": .duration, "breaker_open": .duration, "breaker_max_open": .duration,
        "auto_disable_after": .duration, "listen": .text, "api_token": .text, "insecure_no_auth": .boolean,
        "max_body": .integer, "ingest_rate_limit": .number, "log_format": .text, "alert_url": .text, "retention": .text,
    ]

    var values: [String: String] = [:]

    func text(_ key: String) -> String? { values[key] }
    func integer(_ key: String) -> Int? { values[key].flatMap { Int($0) } }
    func number(_ key: String) -> Double? { values[key].flatMap { Double($0) } }
    func boolean(_ key: String) -> Bool? { values[key].map { ["true", "yes", "on"].contains($0.lowercased()) } }

    /// Reads and checks a settings file.
    static func load(_ path: String) throws(HooklineError) -> ServeSettings {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .invalidInput("The config file '\(path)' cannot be read; check the path and its permissions.")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw .invalidInput("The config file '\(path)' is not valid YAML: \(error).")
        } catch {
            throw .invalidInput("The config file '\(path)' is not valid YAML: \(error).")
        }
        guard let root else { return ServeSettings() }
        guard case .mapping(let mapping) = root else {
            throw .invalidInput("The config file '\(path)' must be a mapping of settings such as 'timeout: 15s'.")
        }
        var settings = ServeSettings()
        for (keyNode, valueNode) in mapping {
            let line = (keyNode.mark?.line ?? 0)
            guard let key = keyNode.string else {
                throw .invalidInput("\(path), line \(line): keys must be plain names.")
            }
            guard let kind = keys[key] else {
                throw .invalidInput("\(path), line \(line): unknown key '\(key)'; known keys are \(keys.keys.sorted().joined(separator: ", ")).")
            }
            guard case .scalar(let scalar) = valueNode else {
                throw .invalidInput("\(path), line \(line): '\(key)' takes a single value, not a list or mapping.")
            }
            let value = scalar.string
            let valid: Bool
            switch kind {
            case .text: valid = !value.isEmpty
            case .duration: valid = DurationText.parse(value) != nil
            case .integer: valid = Int(value) != nil
            case .number: valid = Double(value).map { $0.isFinite } ?? false
            case .boolean: valid = ["true", "false", "yes", "no", "on", "off"].contains(value.lowercased())
            }
            guard valid else {
                let expected: String
                switch kind {
                case .text: expected = "a non-empty text"
                case .duration: expected = "a duration such as 15s, 5m or 2h"
                case .integer: expected = "a whole number"
                case .number: expected = "a number"
                case .boolean: expected = "true or false"
                }
                throw .invalidInput("\(path), line \(line): '\(key)' is '\(value)', which is not \(expected).")
            }
            settings.values[key] = value
        }
        return settings
    }
}
