import Crypto
import Foundation

/// Endpoint secrets: generation, checking and masking.
public enum Secret {
    /// The shortest secret an operator may supply.
    public static let minimumLength = 24

    /// 32 random bytes in lowercase hex, as `openssl rand -hex 32` prints.
    public static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Hex.encode($0) }
    }

    /// Checks an operator-supplied secret: at least 24 characters, printable, no spaces.
    public static func validate(_ secret: String) throws(HooklineError) {
        guard !secret.isEmpty else {
            throw .invalidInput("The secret is empty; give at least \(minimumLength) characters, or give none to have one generated.")
        }
        guard secret.count >= minimumLength else {
            throw .invalidInput("The secret is \(secret.count) characters long; give at least \(minimumLength), for example the output of `openssl rand -hex 32`.")
        }
        guard secret.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 }) else {
            throw .invalidInput("The secret contains spaces or control characters; use printable characters only.")
        }
    }

    /// The secret as displays show it: `••••` and its last four characters.
    public static func mask(_ secret: String) -> String {
        guard secret.count > 8 else { return "••••" }
        return "••••" + String(secret.suffix(4))
    }
}

/// Lowercase hexadecimal encoding and decoding.
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of the bytes.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of a hex string (either case), or nil when it is not hex of even length.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let hi = value(chars[index]), let lo = value(chars[index + 1]) else { return nil }
            out.append(hi << 4 | lo)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}
