/// The one error type of `HooklineConsole`.
public enum ConsoleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A theme file is malformed; `line` is 1-based, 0 when unknown.
    case theme(file: String, line: Int, message: String)
    /// No theme of that name exists in any theme directory.
    case unknownTheme(name: String, available: [String])
    /// The console needs a terminal on standard input and output.
    case notATerminal
    /// ncurses could not start.
    case terminal(String)

    public var description: String {
        switch self {
        case .theme(let file, let line, let message):
            return line > 0 ? "The theme file \(file), line \(line): \(message)." : "The theme file \(file): \(message)."
        case .unknownTheme(let name, let available):
            return "No theme named '\(name)'; available themes are \(available.joined(separator: ", "))."
        case .notATerminal:
            return "The console needs a terminal; run it in a terminal, not with its input or output redirected."
        case .terminal(let message):
            return "The terminal could not be set up: \(message)."
        }
    }
}
