import Foundation
import HooklineCore

/// Writing to the terminal: tables and messages on stdout, errors on stderr.
enum Output {
    static func line(_ text: String = "") {
        print(text)
    }

    /// A line written at once, unbuffered, for long-running commands whose output is piped.
    static func immediate(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data("hookline: \(text)\n".utf8))
    }

    static func json(_ value: JSONValue) {
        print(value.prettyString)
    }

    /// A left-aligned table with a header row, columns two spaces apart, measured in characters.
    /// Cells are made ``printable(_:)``: they may hold what a receiver sent.
    static func table(_ header: [String], _ rows: [[String]], empty: String) {
        guard !rows.isEmpty else {
            print(empty)
            return
        }
        let rows = rows.map { $0.map(printable) }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func render(_ cells: [String]) -> String {
            var line = ""
            for (index, cell) in cells.enumerated() {
                let isLast = index == cells.count - 1
                line += isLast ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) + "  "
            }
            return line
        }
        print(render(header))
        for row in rows { print(render(row)) }
    }

    /// `2026-11-29 09:30:12Z`, or `-` for nil.
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Timestamp.iso8601(date).replacingOccurrences(of: "T", with: " ")
    }

    /// The text with control characters (escape sequences among them) shown as `?`, so that text
    /// from a receiver (an error message, a redirect target) cannot drive the operator's terminal.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? "?" : $0 }))
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
    }

    /// Shortens text to `limit` characters with an ellipsis.
    static func clip(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }
}
