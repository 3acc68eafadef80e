import Foundation
import HooklineCore
import Logging

/// One JSON object per line on stderr: `time`, `level`, `label`, `message`, then the metadata keys.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object = JSONObject([
            ("time", .string(Timestamp.iso8601(Date()))),
            ("level", .string(event.level.rawValue)),
            ("label", .string(label)),
            ("message", .string(event.message.description)),
        ])
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = .string(value.description)
        }
        var line = JSONValue.object(object).canonicalBytes
        line.append(10)
        FileHandle.standardError.write(Data(line))
    }
}
