import Foundation
@testable import HooklineConsole
import Testing

/// The repository's shipped `themes/` directory, found from this file's path.
private let shippedThemes: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // ThemeTests.swift, HooklineConsoleTests, Tests
    return url.appendingPathComponent("themes").path
}()

/// A valid theme file: `name: NAME` on line 1, `styles:` on line 2, then one token per line in
/// `StyleToken.allCases` order (so token i is on line 3 + i); `replacing` swaps a token's whole
/// line, `dropping` leaves tokens out.
private func themeText(name: String? = "test", replacing: [StyleToken: String] = [:], dropping: Set<StyleToken> = []) -> String {
    var lines: [String] = []
    if let name { lines.append("name: \(name)") }
    lines.append("styles:")
    for token in StyleToken.allCases where !dropping.contains(token) {
        lines.append(replacing[token] ?? "  \(token.rawValue): { fg: green, bold: true }")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// The line `themeText()` puts a token on.
private func lineOf(_ token: StyleToken) -> Int {
    3 + StyleToken.allCases.firstIndex(of: token)!
}

/// A fresh, empty temporary directory.
private func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookline-themes-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func write(_ text: String, to directory: String, as file: String) throws {
    try text.write(toFile: (directory as NSString).appendingPathComponent(file), atomically: true, encoding: .utf8)
}

@Suite struct ThemeTests {
    // MARK: Shipped files

    @Test func shippedThemesExist() {
        let names = ThemeLibrary(directories: [shippedThemes]).names()
        for required in ["dark", "light", "high-contrast", "monochrome"] {
            #expect(names.contains(required), "themes/\(required).yaml is missing")
        }
        #expect(names.first == "dark")
    }

    @Test func everyShippedFileParsesAndDefinesEveryToken() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: shippedThemes)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        #expect(files.count >= 4)
        for file in files {
            let path = (shippedThemes as NSString).appendingPathComponent(file)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let theme = try Theme.parse(text, file: path)
            #expect(theme.name + ".yaml" == file || theme.name + ".yml" == file, "\(file) says name: \(theme.name)")
            #expect(Set(theme.styles.keys) == Set(StyleToken.allCases), "\(file) leaves tokens out")
            #expect(text.hasPrefix("# Hookline console theme: \(theme.name)"), "\(file) lacks its opening comment")
            #expect(text.split(separator: "\n").first?.contains("~/.config/hookline/themes/") == true)
        }
    }

    @Test func shippedThemesLoadThroughTheLibrary() throws {
        let library = ThemeLibrary(directories: [shippedThemes])
        for name in library.names() {
            #expect(try library.load(name).name == name)
        }
    }

    @Test func shippedMonochromeMatchesTheBuiltIn() throws {
        let file = try ThemeLibrary(directories: [shippedThemes]).load("monochrome")
        #expect(file.styles == Theme.monochrome.styles)
    }

    @Test func darkThemeColoursMeanWhatTheySay() throws {
        let dark = try ThemeLibrary(directories: [shippedThemes]).load("dark")
        #expect([TerminalColor.red, TerminalColor(index: 9)].contains(dark.style(.breakerOpen).foreground))
        #expect([TerminalColor.red, TerminalColor(index: 9)].contains(dark.style(.error).foreground))
        #expect([TerminalColor.yellow, TerminalColor(index: 11)].contains(dark.style(.breakerHalfOpen).foreground))
        #expect([TerminalColor.green, TerminalColor(index: 10)].contains(dark.style(.breakerClosed).foreground))
        #expect(dark.style(.focusBorder) != dark.style(.border))
        #expect(dark.style(.selection) != dark.style(.text))
    }

    @Test func lightThemeHasNoWhiteOnWhite() throws {
        let light = try ThemeLibrary(directories: [shippedThemes]).load("light")
        let whites: Set<TerminalColor> = [.white, TerminalColor(index: 15)]
        for token in StyleToken.allCases {
            let style = light.style(token)
            if whites.contains(style.foreground) {
                #expect(style.background != .default && !whites.contains(style.background), "\(token) is white on the white background")
            }
        }
        #expect(light.style(.selection).background == .blue)
        #expect(whites.contains(light.style(.selection).foreground))
    }

    // MARK: Theme

    @Test func monochromeHasNoColours() {
        #expect(Set(Theme.monochrome.styles.keys) == Set(StyleToken.allCases))
        for token in StyleToken.allCases {
            let style = Theme.monochrome.style(token)
            #expect(style.foreground == .default && style.background == .default, "\(token) has a colour")
        }
        #expect(Theme.monochrome.style(.selection).reverse)
        #expect(Theme.monochrome.style(.focusBorder) != Theme.monochrome.style(.border))
    }

    @Test func missingTokensFallBackToTextThenPlain() {
        let text = Style(foreground: .cyan)
        #expect(Theme(name: "t", styles: [.text: text]).style(.breakerOpen) == text)
        #expect(Theme(name: "t", styles: [:]).style(.breakerOpen) == .plain)
    }

    @Test func parsesColoursAndAttributes() throws {
        let theme = try Theme.parse(themeText(replacing: [
            .text: "  text: { fg: default, bg: 236 }",
            .muted: "  muted: { fg: bright-black, dim: true }",
            .selection: "  selection: { fg: Black, bg: cyan, reverse: false, underline: true }",
            .breakerOpen: "  breaker_open:\n    fg: bright-white\n    bg: red\n    bold: yes",
            .key: "  key: {}",
        ]), file: "t.yaml")
        #expect(theme.name == "test")
        #expect(theme.style(.text) == Style(foreground: .default, background: TerminalColor(index: 236)))
        #expect(theme.style(.muted) == Style(foreground: TerminalColor(index: 8), dim: true))
        #expect(theme.style(.selection) == Style(foreground: .black, background: .cyan, underline: true))
        #expect(theme.style(.breakerOpen) == Style(foreground: TerminalColor(index: 15), background: .red, bold: true))
        #expect(theme.style(.key) == .plain)
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var label: String
        var text: String
        var line: Int
        var messageContains: [String]
        var testDescription: String { label }
    }

    static let badInputs: [BadInput] = [
        BadInput(label: "YAML syntax: a tab indents", text: "name: x\nstyles:\n\ttext: {}\n",
                 line: 3, messageContains: ["not valid YAML"]),
        BadInput(label: "YAML syntax: unclosed flow mapping", text: "name: x\nstyles:\n  text: { fg: red\n  muted: {}\n",
                 line: 4, messageContains: ["not valid YAML", "flow mapping from line 3"]),
        BadInput(label: "YAML syntax: duplicated key", text: "name: x\nname: y\nstyles: {}\n",
                 line: 1, messageContains: ["'name'", "more than once"]),
        BadInput(label: "empty file", text: "# nothing here\n",
                 line: 0, messageContains: ["empty"]),
        BadInput(label: "top level is a list", text: "# a list\n- name: x\n",
                 line: 2, messageContains: ["top level", "mapping", "a list"]),
        BadInput(label: "unknown top-level key", text: themeText() + "colours: {}\n",
                 line: 3 + StyleToken.allCases.count, messageContains: ["unknown key 'colours'"]),
        BadInput(label: "missing name", text: "# no name\n" + themeText(name: nil),
                 line: 2, messageContains: ["missing 'name'"]),
        BadInput(label: "empty name", text: "name:\n" + themeText(name: nil),
                 line: 1, messageContains: ["'name'"]),
        BadInput(label: "missing styles", text: "name: x\n",
                 line: 1, messageContains: ["missing 'styles'"]),
        BadInput(label: "styles not a mapping", text: "name: x\nstyles:\n  - text\n",
                 line: 3, messageContains: ["'styles' must be a mapping", "a list"]),
        BadInput(label: "unknown token", text: themeText(replacing: [.sparkline: "  sparkles: { fg: red }"]),
                 line: lineOf(.sparkline), messageContains: ["unknown token 'sparkles'", "known tokens are text, muted, border, focus_border", "breaker_half_open"]),
        BadInput(label: "bad colour", text: themeText(replacing: [.breakerOpen: "  breaker_open: { fg: purpel, bold: true }"]),
                 line: lineOf(.breakerOpen),
                 messageContains: ["unknown colour 'purpel' for breaker_open; use default, black, red, green, yellow, blue, magenta, cyan, white, bright-<name>, or 0-255"]),
        BadInput(label: "bad bright colour", text: themeText(replacing: [.muted: "  muted: { bg: bright-grey }"]),
                 line: lineOf(.muted), messageContains: ["unknown colour 'bright-grey' for muted"]),
        BadInput(label: "colour out of range", text: themeText(replacing: [.ok: "  ok: { fg: 300 }"]),
                 line: lineOf(.ok), messageContains: ["colour 300 for ok is out of range"]),
        BadInput(label: "colour missing", text: themeText(replacing: [.ok: "  ok: { fg: }"]),
                 line: lineOf(.ok), messageContains: ["no colour given for fg of ok"]),
        BadInput(label: "colour is a list", text: themeText(replacing: [.ok: "  ok: { bg: [1, 2] }"]),
                 line: lineOf(.ok), messageContains: ["bg for ok must be a colour, not a list"]),
        BadInput(label: "bad boolean", text: themeText(replacing: [.warn: "  warn: { fg: yellow, bold: maybe }"]),
                 line: lineOf(.warn), messageContains: ["bold for warn must be true or false, not 'maybe'"]),
        BadInput(label: "numeric boolean, block style, on the value's own line",
                 text: themeText(replacing: [.error: "  error:\n    fg: red\n    underline: 1"]),
                 line: lineOf(.error) + 2, messageContains: ["underline for error must be true or false, not '1'"]),
        BadInput(label: "missing tokens", text: themeText(dropping: [.title, .key]),
                 line: 2, messageContains: ["missing styles for the tokens title, key"]),
        BadInput(label: "one missing token", text: themeText(dropping: [.flash]),
                 line: 2, messageContains: ["missing a style for the token flash"]),
        BadInput(label: "style not a mapping", text: themeText(replacing: [.text: "  text: red"]),
                 line: lineOf(.text), messageContains: ["the style for text must be a mapping", "not 'red'"]),
        BadInput(label: "style is empty", text: themeText(replacing: [.border: "  border:"]),
                 line: lineOf(.border), messageContains: ["the style for border must be a mapping", "not nothing"]),
        BadInput(label: "unknown style key", text: themeText(replacing: [.header: "  header: { fg: blue, colour: red }"]),
                 line: lineOf(.header), messageContains: ["unknown key 'colour' in the style for header", "fg, bg, bold, dim, underline, reverse"]),
    ]

    @Test(arguments: badInputs)
    func malformedInputIsRefusedWithFileAndLine(_ input: BadInput) {
        let error = #expect(throws: ConsoleError.self) {
            _ = try Theme.parse(input.text, file: "/tmp/bad.yaml")
        }
        guard case .theme(let file, let line, let message)? = error else {
            Issue.record("expected ConsoleError.theme, got \(String(describing: error))")
            return
        }
        #expect(file == "/tmp/bad.yaml")
        #expect(line == input.line, "\(message)")
        for part in input.messageContains {
            #expect(message.contains(part), "\(message)")
        }
    }

    @Test func errorDescriptionNamesFileAndLine() {
        let text = themeText(replacing: [.breakerOpen: "  breaker_open: { fg: purpel, bold: true }"])
        do {
            _ = try Theme.parse(text, file: "mine.yaml")
            Issue.record("parsed a bad colour")
        } catch {
            #expect(error.description.hasPrefix("The theme file mine.yaml, line \(lineOf(.breakerOpen)): unknown colour 'purpel'"))
        }
    }

    // MARK: ThemeLibrary

    @Test func userDirectoryOverridesShippedFile() throws {
        let user = try temporaryDirectory()
        let shipped = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: user); try? FileManager.default.removeItem(atPath: shipped) }
        try write(themeText(name: "dark", replacing: [.text: "  text: { fg: magenta }"]), to: user, as: "dark.yaml")
        try write(themeText(name: "mine"), to: user, as: "mine.yml")
        try write(themeText(name: "dark"), to: shipped, as: "dark.yaml")
        try write(themeText(name: "light"), to: shipped, as: "light.yaml")
        try write("not a theme", to: shipped, as: "README.md")

        let library = ThemeLibrary(directories: [user, shipped, "/nonexistent/hookline-themes"], builtIn: [:])
        #expect(library.names() == ["dark", "light", "mine", "monochrome"])
        #expect(try library.load("dark").style(.text).foreground == .magenta)
        #expect(try library.load("light").name == "light")
        #expect(try library.load("mine").name == "mine")
        #expect(try library.load("monochrome") == .monochrome)
    }

    @Test func monochromeFileOverridesTheBuiltIn() throws {
        let user = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: user) }
        try write(themeText(name: "monochrome"), to: user, as: "monochrome.yaml")
        let theme = try ThemeLibrary(directories: [user]).load("monochrome")
        #expect(theme.style(.text).foreground == .green)
    }

    @Test func unknownNameListsAvailableThemes() throws {
        let user = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: user) }
        try write(themeText(name: "dark"), to: user, as: "dark.yaml")
        try write(themeText(name: "solar"), to: user, as: "solar.yaml")
        let library = ThemeLibrary(directories: [user], builtIn: [:])
        for name in ["nope", "../dark", ""] {
            #expect(throws: ConsoleError.unknownTheme(name: name, available: ["dark", "monochrome", "solar"])) {
                try library.load(name)
            }
        }
    }

    @Test func brokenUserFileIsReportedWithItsPathAndLine() throws {
        let user = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: user) }
        let path = (user as NSString).appendingPathComponent("dark.yaml")
        try write("name: dark\nstyles:\n  text: { fg: default }\n  muted: fg: garbage\n", to: user, as: "dark.yaml")
        let library = ThemeLibrary(directories: [user, shippedThemes])
        #expect(library.names().contains("dark"))
        let error = #expect(throws: ConsoleError.self) { try library.load("dark") }
        guard case .theme(let file, let line, let message)? = error else {
            Issue.record("expected ConsoleError.theme, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        #expect(line == 4, "\(message)")
        #expect(message.contains("not valid YAML"), "\(message)")
    }

    @Test func nameInsideFileMustMatchFileName() throws {
        let user = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: user) }
        try write(themeText(name: "dark"), to: user, as: "copied.yaml")
        #expect(throws: ConsoleError.theme(file: (user as NSString).appendingPathComponent("copied.yaml"), line: 1,
                                           message: "the name 'dark' differs from the file's name; write 'name: copied' or rename the file to dark.yaml")) {
            try ThemeLibrary(directories: [user]).load("copied")
        }
    }

    @Test func noDirectoriesStillOffersMonochrome() throws {
        let library = ThemeLibrary(directories: [], builtIn: [:])
        #expect(library.names() == ["monochrome"])
        #expect(try library.load("monochrome") == .monochrome)
        #expect(throws: ConsoleError.unknownTheme(name: "dark", available: ["monochrome"])) { try library.load("dark") }
    }

    @Test func builtInThemesAreTheShippedFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: shippedThemes).filter { $0.hasSuffix(".yaml") }
        #expect(Set(BuiltInThemes.files.keys) == Set(files.map { String($0.dropLast(5)) }))
        for file in files {
            let text = try String(contentsOfFile: (shippedThemes as NSString).appendingPathComponent(file), encoding: .utf8)
            #expect(BuiltInThemes.files[String(file.dropLast(5))] == text, "the binary's \(file) differs from themes/\(file)")
        }
    }

    @Test func standardLibraryNeedsNoThemeFiles() throws {
        let library = ThemeLibrary.standard()
        #expect(library.directories.contains { $0.hasSuffix("/.config/hookline/themes") })
        #expect(!library.directories.contains(shippedThemes))
        let bare = ThemeLibrary(directories: ["/nonexistent/hookline-themes"])
        for name in ["dark", "light", "high-contrast", "monochrome"] {
            #expect(try bare.load(name).name == name)
        }
        #expect(bare.names().first == "dark")
    }

    @Test func missingOrBrokenThemeFallsBackToTheBuiltInDefault() throws {
        let bare = ThemeLibrary(directories: [])
        let missing = bare.loadOrDefault("solarized")
        #expect(missing.theme == (try bare.load("dark")))
        #expect(missing.problem == "No theme named 'solarized'; available themes are dark, high-contrast, light, monochrome. Using the built-in dark theme.")

        let user = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: user) }
        try write("name: light\nstyles:\n  text: fg: garbage\n", to: user, as: "light.yaml")
        let broken = ThemeLibrary(directories: [user]).loadOrDefault("light")
        #expect(broken.theme.name == "dark")
        #expect(broken.problem?.hasPrefix("The theme file \(user)/light.yaml, line 3") == true, "\(broken.problem ?? "")")
        // A user's broken dark.yaml does not hide the built-in one.
        try write("name: dark\nstyles: [\n", to: user, as: "dark.yaml")
        #expect(ThemeLibrary(directories: [user]).loadOrDefault("dark").theme == (try bare.load("dark")))
        #expect(ThemeLibrary(directories: [user]).loadOrDefault("light").problem != nil)
    }
}
