import Foundation

/// Finds theme files: the user's directory first, then the shipped ones.
///
/// A theme's name is its file's name without `.yaml`/`.yml` (`.yaml` wins when both exist in one
/// directory); the `name:` inside the file must say the same. The first directory holding a theme
/// wins, so a user's `dark.yaml` replaces the shipped one.
public struct ThemeLibrary: Sendable {
    public var directories: [String]

    public init(directories: [String]) {
        self.directories = directories
    }

    /// $HOOKLINE_THEMES (colon-separated), ~/.config/hookline/themes, then the shipped `themes/`
    /// directory found by walking up from the executable's directory (at most 6 levels) looking for
    /// a `themes` folder containing `dark.yaml`.
    public static func standard(executablePath: String = CommandLine.arguments[0]) -> ThemeLibrary {
        let environment = ProcessInfo.processInfo.environment
        var directories: [String] = []
        if let list = environment["HOOKLINE_THEMES"] {
            directories += list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        directories.append((home as NSString).appendingPathComponent(".config/hookline/themes"))
        if let shipped = shippedDirectory(executablePath: executablePath) {
            directories.append(shipped)
        }
        var seen = Set<String>()
        return ThemeLibrary(directories: directories.filter { seen.insert(($0 as NSString).standardizingPath).inserted })
    }

    /// Theme names available (file names without .yaml/.yml), first directory winning, sorted with "dark" first.
    /// "monochrome" is always listed, since `load` falls back to the built-in one.
    public func names() -> [String] {
        var names: Set<String> = ["monochrome"]
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

    /// The shipped `themes` directory: a `themes` folder holding `dark.yaml` in the executable's
    /// directory or one of its 6 nearest ancestors, trying the path as given and with symlinks resolved.
    static func shippedDirectory(executablePath: String) -> String? {
        let fileManager = FileManager.default
        var executable = executablePath
        if !executable.contains("/") {
            // Started through $PATH: find which one.
            let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
            executable = path.split(separator: ":").map { ($0 as NSString).appendingPathComponent(executablePath) }
                .first { fileManager.isExecutableFile(atPath: $0) } ?? executablePath
        }
        if !executable.hasPrefix("/") {
            executable = (fileManager.currentDirectoryPath as NSString).appendingPathComponent(executable)
        }
        let given = ((executable as NSString).standardizingPath as NSString).deletingLastPathComponent
        let resolved = ((executable as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
        for start in [given, resolved] {
            var directory = start
            for _ in 0...6 {
                let candidate = (directory as NSString).appendingPathComponent("themes")
                if fileManager.fileExists(atPath: (candidate as NSString).appendingPathComponent("dark.yaml")) {
                    return candidate
                }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        return nil
    }
}
