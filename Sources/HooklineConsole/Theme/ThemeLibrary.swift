import Foundation

/// Finds themes: the user's directories first, then the ones built into the binary.
///
/// A theme's name is its file's name without `.yaml`/`.yml` (`.yaml` wins when both exist in one
/// directory); the `name:` inside the file must say the same. The first directory holding a theme
/// wins, so a user's `dark.yaml` replaces the built-in one.
public struct ThemeLibrary: Sendable {
    public var directories: [String]
    /// Theme texts by name, consulted after the directories: the shipped themes by default.
    public var builtIn: [String: String]

    public init(directories: [String], builtIn: [String: String] = BuiltInThemes.files) {
        self.directories = directories
        self.builtIn = builtIn
    }

    /// $HOOKLINE_THEMES (colon-separated), then ~/.config/hookline/themes, then the built-in themes.
    public static func standard() -> ThemeLibrary {
        let environment = ProcessInfo.processInfo.environment
        var directories: [String] = []
        if let list = environment["HOOKLINE_THEMES"] {
            directories += list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        directories.append((home as NSString).appendingPathComponent(".config/hookline/themes"))
        var seen = Set<String>()
        return ThemeLibrary(directories: directories.filter { seen.insert(($0 as NSString).standardizingPath).inserted })
    }

    /// The theme to start with: `name`, or when it is missing or broken the built-in default (and
    /// failing that the plain monochrome theme) with the sentence that says why.
    public func loadOrDefault(_ name: String) -> (theme: Theme, problem: String?) {
        do {
            return (try load(name), nil)
        } catch {
            let fallback = (try? ThemeLibrary(directories: [], builtIn: builtIn).load(BuiltInThemes.defaultName)) ?? .monochrome
            return (fallback, "\(error.description) Using the built-in \(fallback.name) theme.")
        }
    }

    /// Theme names available (file names without .yaml/.yml), first directory winning, sorted with "dark" first.
    /// "monochrome" is always listed, since `load` falls back to the built-in one.
    public func names() -> [String] {
        var names = Set(builtIn.keys).union(["monochrome"])
        for directory in directories {
            for file in Self.themeFiles(in: directory) {
                names.insert(file.name)
            }
        }
        return names.sorted { a, b in
            if a == "dark" || b == "dark" { return a == "dark" && b != "dark" }
            return a < b
        }
    }

    /// Loads a theme by name; "monochrome" falls back to the built-in when no file defines it.
    public func load(_ name: String) throws(ConsoleError) -> Theme {
        var wanted = name
        for suffix in [".yaml", ".yml"] where wanted.hasSuffix(suffix) {
            wanted = String(wanted.dropLast(suffix.count))
        }
        if !wanted.isEmpty, !wanted.contains("/"), !wanted.hasPrefix(".") {
            for directory in directories {
                guard let path = Self.themeFiles(in: directory).first(where: { $0.name == wanted })?.path else { continue }
                return try Self.loadFile(path, expectedName: wanted)
            }
            if let text = builtIn[wanted] {
                return try Self.parse(text, file: "built-in theme \(wanted)", expectedName: wanted)
            }
            if wanted == "monochrome" { return .monochrome }
        }
        throw .unknownTheme(name: name, available: names())
    }

    /// Reads and parses one theme file, whose `name:` must match its file name.
    static func loadFile(_ path: String, expectedName: String) throws(ConsoleError) -> Theme {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .theme(file: path, line: 0, message: "cannot be read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .theme(file: path, line: 0, message: "is not UTF-8 text")
        }
        return try parse(text, file: path, expectedName: expectedName)
    }

    /// Parses a theme's text, whose `name:` must be `expectedName`.
    static func parse(_ text: String, file path: String, expectedName: String) throws(ConsoleError) -> Theme {
        let parsed = try ThemeParser(file: path).parse(text)
        guard parsed.theme.name == expectedName else {
            throw .theme(file: path, line: parsed.nameLine,
                         message: "the name '\(parsed.theme.name)' differs from the file's name; write 'name: \(expectedName)' or rename the file to \(parsed.theme.name).yaml")
        }
        return parsed.theme
    }

    /// The theme files of a directory, `.yaml` before `.yml` for the same name; none if it cannot be listed.
    static func themeFiles(in directory: String) -> [(name: String, path: String)] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var found: [String: (rank: Int, path: String)] = [:]
        for entry in entries where !entry.hasPrefix(".") {
            let rank: Int
            let name: String
            if entry.hasSuffix(".yaml") {
                (rank, name) = (0, String(entry.dropLast(5)))
            } else if entry.hasSuffix(".yml") {
                (rank, name) = (1, String(entry.dropLast(4)))
            } else {
                continue
            }
            guard !name.isEmpty else { continue }
            let path = (directory as NSString).appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if let existing = found[name], existing.rank <= rank { continue }
            found[name] = (rank, path)
        }
        return found.map { (name: $0.key, path: $0.value.path) }.sorted { $0.name < $1.name }
    }
}
