import Foundation
import PackagePlugin

/// Compiles the repository's `themes/*.yaml` into the target that uses it (as
/// `BuiltInThemes.files`), so the console's shipped themes travel inside the binary.
@main
struct EmbedThemesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let folder = context.package.directoryURL.appendingPathComponent("themes")
        let themes = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }
            .sorted()
            .map { folder.appendingPathComponent($0) }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuiltInThemes+Files.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(themes.count) console themes",
                executable: try context.tool(named: "ThemeEmbedder").url,
                arguments: [output.path] + themes.map(\.path),
                inputFiles: themes,
                outputFiles: [output])
        ]
    }
}
