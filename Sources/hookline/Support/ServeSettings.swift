import Foundation
import HooklineCore
import Yams

/// `hookline serve`'s settings from a YAML file: the same names as the flags, with underscores.
///
/// Flags override the file. Unknown keys and bad values are refused with the file, the line, the
/// key and the reason.
struct ServeSettings {
    /// The file's values by key, with the line each is on; empty without a file.
    var values: [String: (text: String, line: Int)] = [:]
    /// The file, for messages.
    var path = ""

    /// Reads and checks a settings file against ``ServeSettingList/all``.
    static func load(_ path: String) throws(HooklineError) -> ServeSettings {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .invalidInput("The config file '\(path)' cannot be read; check the path and its permissions.")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .invalidInput("The config file '\(path)' is not valid YAML: \(error).")
        }
        var settings = ServeSettings(path: path)
        guard let root else { return settings }
        guard case .mapping(let mapping) = root else {
            throw .invalidInput("The config file '\(path)' must be a mapping of settings such as 'timeout: 15s'.")
        }
        let known = Dictionary(uniqueKeysWithValues: ServeSettingList.all.map { ($0.key, $0) })
        for (keyNode, valueNode) in mapping {
            let line = (keyNode.mark?.line ?? 0)
            guard let key = keyNode.string else {
                throw .invalidInput("\(path), line \(line): keys must be plain names.")
            }
            guard let setting = known[key] else {
                throw .invalidInput("\(path), line \(line): unknown key '\(key)'; known keys are \(known.keys.sorted().joined(separator: ", ")).")
            }
            guard case .scalar(let scalar) = valueNode else {
                throw .invalidInput("\(path), line \(line): '\(key)' takes a single value, not a list or mapping.")
            }
            try setting.check(scalar.string, "\(path), line \(line): \(key)")
            settings.values[key] = (scalar.string, line)
        }
        return settings
    }
}
