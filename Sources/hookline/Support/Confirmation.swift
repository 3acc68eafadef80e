import Foundation
import HooklineCore

/// The "are you sure?" of commands that change many rows or cannot be undone.
enum Confirmation {
    /// Asks `question` on the terminal and returns whether the answer was yes; refuses (with a
    /// sentence naming `action` and `--yes`) when stdin is not a terminal.
    static func confirm(_ action: String, question: String) throws(HooklineError) -> Bool {
        guard isatty(STDIN_FILENO) == 1 else {
            throw .invalidInput("\(action) needs confirmation; pass --yes when not at a terminal.")
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        guard let answer = readLine()?.lowercased() else { return false }
        return answer == "y" || answer == "yes"
    }
}
