/// The `:` command line being typed, with what Tab found when it could not choose.
public struct CommandPrompt: Sendable, Hashable {
    public var text: String
    /// The completions Tab offered for the text, shown after it.
    public var candidates: [String]

    public init(text: String = "", candidates: [String] = []) {
        self.text = text
        self.candidates = candidates
    }

    /// The command words, as completion offers them and an unknown command lists them.
    public static let commands = ["tenant", "since", "theme", "help", "quit"]

    /// One line listing what the command line understands.
    public static let summary = "an evt_/dlv_/ep_ id, tenant [ID], since 15m|off, theme NAME, help, quit"
}
