/// The themes shipped in the repository's `themes/` folder, compiled into the binary by the
/// EmbedThemes build plugin (`files` is generated), so the console starts wherever it is installed.
public enum BuiltInThemes {
    /// The theme the console uses when the one asked for is missing or broken.
    public static let defaultName = "dark"
}
