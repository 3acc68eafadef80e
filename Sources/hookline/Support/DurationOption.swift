import Foundation
import HooklineCore

/// Duration flags (`--timeout 15s`, `--older-than 30d`): one parse and one sentence for all commands.
enum DurationOption {
    /// The seconds `text` stands for, or an error naming `--flag` and how to write a duration.
    static func seconds(_ text: String, flag: String) throws(HooklineError) -> TimeInterval {
        guard let seconds = DurationText.parse(text) else {
            throw .invalidInput("--\(flag) '\(text)' is not a duration; write it with a unit, such as 500ms, 15s, 5m, 2h or 30d.")
        }
        return seconds
    }
}
