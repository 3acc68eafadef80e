import Foundation
import Yams

/// A named set of styles, one per StyleToken.
public struct Theme: Sendable, Hashable {
    public var name: String
    public var styles: [StyleToken: Style]

    public init(name: String, styles: [StyleToken: Style]) {
        self.name = name
        self.styles = styles
    }

    /// The style for a token; tokens the theme leaves out fall back to `.text`'s style, then plain.
    public func style(_ token: StyleToken) -> Style {
        styles[token] ?? styles[.text] ?? .plain
    }

    /// Built in, no colours, attributes only (bold/dim/reverse/underline): used for NO_COLOR, for
    /// terminals without colours, and when no theme file can be found.
    /// `themes/monochrome.yaml` says the same thing as a file.
    public static let monochrome = Theme(name: "monochrome", styles: [
        .text: .plain,
        .muted: Style(dim: true),
        .border: .plain,
        .focusBorder: Style(bold: true),
        .title: Style(bold: true),
        .selection: Style(reverse: true),
        .header: Style(bold: true, underline: true),
        .ok: .plain,
        .warn: Style(bold: true),
        .error: Style(bold: true, underline: true),
        .flash: Style(bold: true, reverse: true),
        .tabActive: Style(bold: true, reverse: true),
        .tabInactive: Style(dim: true),
        .breakerClosed: .plain,
        .breakerHalfOpen: Style(bold: true),
        .breakerOpen: Style(bold: true, reverse: true),
        .sparkline: .plain,
        .key: Style(bold: true),
    ])

    /// Parses a theme file's text; `file` names it in errors. Errors carry the 1-based line of the
    /// offending key or value (Yams `Node.mark`), e.g. line 7: "unknown colour 'purpel' for breaker_open; use default, black, red, green, yellow, blue, magenta, cyan, white, bright-<name>, or 0-255".
    public static func parse(_ text: String, file: String) throws(ConsoleError) -> Theme {
        try ThemeParser(file: file).parse(text).theme
    }
}

/// The colour names a theme file may use, with their indices.
enum ThemeColorNames {
    static let basic = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    static let advice = "use default, black, red, green, yellow, blue, magenta, cyan, white, bright-<name>, or 0-255"

    /// The colour a name (any case) or a decimal index 0-255 stands for.
    static func color(_ raw: String) -> Result<TerminalColor, ColorProblem> {
        let word = raw.trimmingCharacters(in: .whitespaces).lowercased()
        if word == "default" { return .success(.default) }
        if let i = basic.firstIndex(of: word) { return .success(TerminalColor(index: Int16(i))) }
        if word.hasPrefix("bright-"), let i = basic.firstIndex(of: String(word.dropFirst("bright-".count))) {
            return .success(TerminalColor(index: Int16(8 + i)))
        }
        let digits = word.hasPrefix("-") || word.hasPrefix("+") ? word.dropFirst() : Substring(word)
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let n = Int(word), (0...255).contains(n) else { return .failure(.outOfRange) }
            return .success(TerminalColor(index: Int16(n)))
        }
        return .failure(.unknown)
    }

    enum ColorProblem: Error { case unknown, outOfRange }
}

/// Turns a theme file's YAML into a `Theme`, or a `ConsoleError.theme` naming the file and line.
struct ThemeParser {
    let file: String

    struct Parsed {
        var theme: Theme
        /// The line of the `name` value, for errors about it found later.
        var nameLine: Int
    }

    static let styleKeys = ["fg", "bg", "bold", "dim", "underline", "reverse"]
    static var knownTokens: String { StyleToken.allCases.map(\.rawValue).joined(separator: ", ") }

    func fail(_ line: Int, _ message: String) -> ConsoleError {
        .theme(file: file, line: line, message: message)
    }

    func parse(_ text: String) throws(ConsoleError) -> Parsed {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, text: text)
        } catch {
            throw fail(0, "not valid YAML: \(error)")
        }
        guard let root else {
            throw fail(0, "the file is empty; a theme needs 'name' and 'styles'")
        }
        guard let top = root.mapping else {
            throw fail(line(root), "the top level must be a mapping with 'name' and 'styles', not \(describe(root))")
        }

        var name: (String, Int)?
        var styles: [StyleToken: Style]?
        for (key, value) in top {
            switch try keyString(key, in: "the top level") {
            case "name":
                guard let scalar = value.scalar, value.null == nil,
                      !scalar.string.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw fail(line(value, or: key), "'name' must be the theme's name, not \(describe(value))")
                }
                name = (scalar.string.trimmingCharacters(in: .whitespaces), line(value, or: key))
            case "styles":
                styles = try parseStyles(value, key: key)
            case let other:
                throw fail(line(key), "unknown key '\(other)' at the top level; a theme has only 'name' and 'styles'")
            }
        }
        guard let name else {
            throw fail(line(root), "missing 'name'; add for example 'name: my-theme'")
        }
        guard let styles else {
            throw fail(line(root), "missing 'styles'; give a style to each of \(Self.knownTokens)")
        }
        return Parsed(theme: Theme(name: name.0, styles: styles), nameLine: name.1)
    }

    private func parseStyles(_ node: Node, key: Node) throws(ConsoleError) -> [StyleToken: Style] {
        guard let mapping = node.mapping else {
            throw fail(line(node, or: key), "'styles' must be a mapping from token to style, not \(describe(node))")
        }
        var styles: [StyleToken: Style] = [:]
        for (tokenKey, value) in mapping {
            let word = try keyString(tokenKey, in: "'styles'")
            guard let token = StyleToken(rawValue: word) else {
                throw fail(line(tokenKey), "unknown token '\(word)'; known tokens are \(Self.knownTokens)")
            }
            styles[token] = try parseStyle(value, token: token, key: tokenKey)
        }
        let missing = StyleToken.allCases.filter { styles[$0] == nil }
        if !missing.isEmpty {
            let list = missing.map(\.rawValue).joined(separator: ", ")
            throw fail(line(key), "missing \(missing.count == 1 ? "a style for the token" : "styles for the tokens") \(list); every token needs a style")
        }
        return styles
    }

    private func parseStyle(_ node: Node, token: StyleToken, key: Node) throws(ConsoleError) -> Style {
        guard let mapping = node.mapping else {
            throw fail(line(node, or: key), "the style for \(token.rawValue) must be a mapping such as { fg: red, bold: true }, not \(describe(node))")
        }
        var style = Style.plain
        for (attributeKey, value) in mapping {
            let attribute = try keyString(attributeKey, in: "the style for \(token.rawValue)")
            switch attribute {
            case "fg": style.foreground = try color(value, key: attributeKey, token: token)
            case "bg": style.background = try color(value, key: attributeKey, token: token)
            case "bold": style.bold = try flag(value, key: attributeKey, attribute: attribute, token: token)
            case "dim": style.dim = try flag(value, key: attributeKey, attribute: attribute, token: token)
            case "underline": style.underline = try flag(value, key: attributeKey, attribute: attribute, token: token)
            case "reverse": style.reverse = try flag(value, key: attributeKey, attribute: attribute, token: token)
            default:
                throw fail(line(attributeKey), "unknown key '\(attribute)' in the style for \(token.rawValue); use \(Self.styleKeys.joined(separator: ", "))")
            }
        }
        return style
    }

    private func color(_ node: Node, key: Node, token: StyleToken) throws(ConsoleError) -> TerminalColor {
        let attribute = key.scalar?.string ?? "fg"
        if node.null != nil {
            throw fail(line(node, or: key), "no colour given for \(attribute) of \(token.rawValue); \(ThemeColorNames.advice)")
        }
        guard let scalar = node.scalar else {
            throw fail(line(node, or: key), "\(attribute) for \(token.rawValue) must be a colour, not \(describe(node)); \(ThemeColorNames.advice)")
        }
        switch ThemeColorNames.color(scalar.string) {
        case .success(let color):
            return color
        case .failure(.outOfRange):
            throw fail(line(node, or: key), "colour \(scalar.string) for \(token.rawValue) is out of range; use 0-255, or a name (default, black, red, green, yellow, blue, magenta, cyan, white, bright-<name>)")
        case .failure(.unknown):
            throw fail(line(node, or: key), "unknown colour '\(scalar.string)' for \(token.rawValue); \(ThemeColorNames.advice)")
        }
    }

    private func flag(_ node: Node, key: Node, attribute: String, token: StyleToken) throws(ConsoleError) -> Bool {
        // YAML's booleans, quoted or not: true/false, and the YAML 1.1 yes/no/on/off.
        switch node.null != nil ? nil : node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            throw fail(line(node, or: key), "\(attribute) for \(token.rawValue) must be true or false, not \(describe(node))")
        }
    }

    private func keyString(_ key: Node, in place: String) throws(ConsoleError) -> String {
        guard let scalar = key.scalar else {
            throw fail(line(key), "a key in \(place) must be a plain word, not \(describe(key))")
        }
        return scalar.string
    }

    /// The line of a node; for an empty value (`text:` with nothing after it, whose mark
    /// libyaml puts where the next token starts) the line of its key.
    private func line(_ node: Node, or key: Node? = nil) -> Int {
        if let key, let scalar = node.scalar, scalar.string.isEmpty, node.null != nil, let mark = key.mark {
            return mark.line
        }
        return node.mark?.line ?? key?.mark?.line ?? 0
    }

    /// How a message quotes a node: its text for a scalar, its kind otherwise.
    private func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if node.null != nil { return "nothing" }
            return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private func yamlError(_ error: YamlError, text: String) -> ConsoleError {
        func detail(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context, !context.text.isEmpty else { return problem }
            return "\(problem) (\(context.text) from line \(context.mark.line))"
        }
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return fail(mark.line, "not valid YAML: \(detail(context, problem))")
        case let .reader(problem, offset, _, _):
            var line = 0
            if let offset {
                line = 1 + text.prefix(offset).reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            }
            return fail(line, "not readable as YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            let subject = duplicates.count == 1 ? "the key \(keys) is" : "the keys \(keys) are"
            return fail(context.mark.line, "\(subject) given more than once in the same mapping")
        default:
            return fail(0, "not valid YAML: \(error)")
        }
    }
}
