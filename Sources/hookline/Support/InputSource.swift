import Foundation
import HooklineCore

/// Arguments that take text inline, from a file (`@FILE`) or from standard input (`-`).
enum InputSource {
    /// The bytes the argument names.
    static func read(_ argument: String, what: String) throws(HooklineError) -> [UInt8] {
        if argument == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard !path.isEmpty else {
                throw .invalidInput("The \(what) argument '@' names no file; write @path/to/file.json.")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .invalidInput("The \(what) file '\(path)' does not exist.")
            }
            guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
                throw .invalidInput("The \(what) file '\(path)' cannot be read; check that it is a readable file.")
            }
            return Array(data)
        }
        return Array(argument.utf8)
    }
}
