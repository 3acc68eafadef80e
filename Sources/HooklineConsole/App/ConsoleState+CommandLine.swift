import Foundation
import HooklineCore

extension ConsoleState {
    mutating func handleCommandLine(_ key: Key, _ prompt: CommandPrompt) -> [ConsoleEffect] {
        switch key {
        case .enter:
            mode = .normal
            return runCommand(prompt.text)
        case .escape:
            mode = .normal
        case .backspace:
            if prompt.text.isEmpty { mode = .normal } else { mode = .command(CommandPrompt(text: String(prompt.text.dropLast()))) }
        case .tab:
            mode = .command(complete(prompt.text))
        case .character(let c):
            mode = .command(CommandPrompt(text: prompt.text + String(c)))
        default:
            break
        }
        return []
    }

    /// Carries out one command line.
    mutating func runCommand(_ line: String) -> [ConsoleEffect] {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let word = words.first else { return [] }
        let argument = words.count > 1 ? words[1] : nil
        guard words.count <= 2 else {
            say("'\(line)' has too many words; commands are \(CommandPrompt.summary).", .warn)
            return []
        }
        if word.hasPrefix(Identifier.eventPrefix) { return [.run(.openEvent(id: word))] }
        if word.hasPrefix(Identifier.deliveryPrefix) { return [.run(.openDelivery(id: word))] }
        if word.hasPrefix(Identifier.endpointPrefix) { return [.run(.openEndpoint(id: word))] }
        switch word.lowercased() {
        case "tenant":
            if argument == nil && tenantScope == nil {
                say("Showing every tenant already; :tenant ID shows one.", .muted)
                return []
            }
            return [.run(.scopeTenant(argument))]
        case "since":
            guard let argument, argument.lowercased() != "off" else {
                recentWindow = nil
                say("Events, Failed and Attempts show every time again.", .muted)
                return [.refreshNow]
            }
            guard let seconds = DurationText.parse(argument), seconds > 0 else {
                say("'\(argument)' is not a duration; write :since 15m (or 90s, 2h, 1d), or :since off.", .warn)
                return []
            }
            recentWindow = seconds
            say("Events, Failed and Attempts show the last \(DurationText.format(seconds)); :since off shows every time.", .muted)
            return [.refreshNow]
        case "theme":
            guard let argument else {
                say("Themes: \(themeNames.joined(separator: ", ")); :theme NAME switches.", .muted)
                return []
            }
            return [.setTheme(argument)]
        case "help":
            return perform(.help)
        case "quit", "q":
            return [.quit]
        default:
            say("Unknown command '\(word)'; commands are \(CommandPrompt.summary).", .warn)
            return []
        }
    }

    /// Tab: completes the word being typed from what the console knows (commands, the ids on
    /// screen, tenants, themes, durations); several candidates complete to what they share and
    /// are listed after the prompt.
    func complete(_ text: String) -> CommandPrompt {
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let partial = words.last ?? ""
        let options: [String]
        if words.count <= 1 {
            options = CommandPrompt.commands + knownIDs()
        } else {
            switch words[0].lowercased() {
            case "tenant": options = knownTenants()
            case "theme": options = themeNames
            case "since": options = ["5m", "15m", "1h", "6h", "24h", "off"]
            default: options = []
            }
        }
        let candidates = options.filter { $0.lowercased().hasPrefix(partial.lowercased()) }
        let head = words.dropLast().map { $0 + " " }.joined()
        guard let first = candidates.first else { return CommandPrompt(text: text) }
        if candidates.count == 1 {
            // A finished command word takes its argument next.
            let more = words.count <= 1 && CommandPrompt.commands.contains(first) && !["help", "quit"].contains(first)
            return CommandPrompt(text: head + first + (more ? " " : ""))
        }
        var shared = first
        for candidate in candidates.dropFirst() {
            while !candidate.lowercased().hasPrefix(shared.lowercased()) { shared.removeLast() }
        }
        return CommandPrompt(text: head + (shared.count > partial.count ? shared : partial), candidates: candidates)
    }

    /// The ids the frame shows: events, deliveries and endpoints, sorted.
    func knownIDs() -> [String] {
        guard let snapshot else { return [] }
        var ids = Set(snapshot.endpoints.map(\.endpoint.id))
        ids.formUnion(snapshot.events.map(\.event.id))
        for row in snapshot.failed { ids.insert(row.delivery.id); ids.insert(row.delivery.eventID) }
        for row in snapshot.attempts { ids.insert(row.attempt.deliveryID); ids.insert(row.eventID) }
        return ids.sorted()
    }

    /// The tenants the frame shows.
    func knownTenants() -> [String] {
        guard let snapshot else { return [] }
        var tenants = Set(snapshot.endpoints.map(\.endpoint.tenant))
        tenants.formUnion(snapshot.events.map(\.event.tenant))
        tenants.formUnion(snapshot.attempts.map(\.tenant))
        if let tenantScope { tenants.insert(tenantScope) }
        return tenants.sorted()
    }
}
