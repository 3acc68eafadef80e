// libFuzzer target: the strict JSON parser and the canonical (JSON.stringify) writer.
//
// For any input that parses:
// - the canonical bytes parse again, to an equal value with the same hash;
// - re-encoding them gives the same bytes (canonicalisation is idempotent);
// - the pretty form parses back to the same value.
// Inputs that do not parse must only throw; a crash or a trap is a bug.

import CLibFuzzer
import Foundation
import HooklineCore

/// The entry point: hands the command line to libFuzzer, which then calls `fuzz` for every input.
@main
enum Driver {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzz))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let value: JSONValue
    do {
        value = try JSONValue.parse(input)
    } catch {
        guard !error.description.isEmpty else { fatalError("empty error message for \(hexDump(input))") }
        return 0
    }

    let canonical = value.canonicalBytes
    let again: JSONValue
    do {
        again = try JSONValue.parse(canonical)
    } catch {
        fatalError("canonical bytes do not parse (\(error)): \(text(canonical)) from \(hexDump(input))")
    }
    let recanonical = again.canonicalBytes
    guard recanonical == canonical else {
        fatalError("not idempotent: \(text(canonical)) re-encodes as \(text(recanonical)) (input \(hexDump(input)))")
    }
    guard again == value, again.hashValue == value.hashValue else {
        fatalError("the re-parsed value differs from the original: \(text(canonical)) (input \(hexDump(input)))")
    }

    let pretty = value.prettyString
    guard let fromPretty = try? JSONValue.parse(pretty), fromPretty == value else {
        fatalError("the pretty form does not parse back to the value: \(pretty) (input \(hexDump(input)))")
    }
    return 0
}

private func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.prefix(300), as: UTF8.self)
}

private func hexDump(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    bytes.prefix(200).map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }.joined()
}
