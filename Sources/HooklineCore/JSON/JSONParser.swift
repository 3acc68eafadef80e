// JSONParser.swift
// A strict, iterative (non-recursive) RFC 8259 parser working on UTF-8 bytes,
// accepting exactly what JavaScript's JSON.parse accepts, with two deliberate
// differences: numbers that overflow to ±Infinity and unpaired UTF-16
// surrogate escapes are rejected.

extension JSONValue {
    /// The maximum nesting of arrays and objects accepted by `parse`.
    public static let maximumDepth = 512

    /// Parses UTF-8 JSON text strictly (RFC 8259 grammar, as JSON.parse accepts it).
    ///
    /// - Parameter refusingUnsafeIntegers: refuse an integer literal beyond ±2^53, which JavaScript
    ///   (and this parser's `Double`) cannot hold exactly, with `.invalidField` naming where it is
    ///   (`data.amount`, `events[2].data.id`), instead of rounding it silently.
    /// - Parameter root: the name of the whole document in those paths (`data` gives `data.amount`);
    ///   nil names the top `body` and starts the paths at its keys.
    public static func parse<Bytes: Collection>(
        _ bytes: Bytes, refusingUnsafeIntegers: Bool = false, root: String? = nil
    ) throws(HooklineError) -> JSONValue
    where Bytes.Element == UInt8 {
        let contiguous: Result<JSONValue, HooklineError>? = bytes.withContiguousStorageIfAvailable { buf in
            var parser = JSONParser(buf, refusingUnsafeIntegers: refusingUnsafeIntegers, root: root)
            do throws(HooklineError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        if let contiguous { return try contiguous.get() }
        let array = Array(bytes)
        let result: Result<JSONValue, HooklineError> = array.withUnsafeBufferPointer { buf in
            var parser = JSONParser(buf, refusingUnsafeIntegers: refusingUnsafeIntegers, root: root)
            do throws(HooklineError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses JSON text strictly (RFC 8259 grammar, as JSON.parse accepts it).
    public static func parse(_ text: String) throws(HooklineError) -> JSONValue {
        try parse(text.utf8)
    }
}

private enum ASCII {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
}

struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos = 0
    /// Scratch buffer for strings that contain escapes.
    private var scratch: [UInt8] = []

    private struct Frame {
        var isObject: Bool
        var valueBase: Int
        var keyBase: Int
    }

    /// Whether an integer literal beyond ±2^53 is refused rather than rounded.
    private let refusingUnsafeIntegers: Bool
    /// Set by `parseNumber` when the literal it read is an integer beyond ±2^53.
    private var lastNumberIsUnsafeInteger = false

    /// The largest integer magnitude every JavaScript number holds exactly next to its neighbours.
    static let largestExactInteger: UInt64 = 1 << 53

    /// The name of the document in the path of a refused integer, if any.
    private let root: String?

    init(_ bytes: UnsafeBufferPointer<UInt8>, refusingUnsafeIntegers: Bool = false, root: String? = nil) {
        self.bytes = bytes
        self.refusingUnsafeIntegers = refusingUnsafeIntegers
        self.root = root
    }

    // MARK: Document

    mutating func parseDocument() throws(HooklineError) -> JSONValue {
        let end = bytes.count
        if end >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            throw HooklineError.invalidJSON(
                "unexpected character U+FEFF (byte order mark) at line 1, column 1")
        }
        skipWhitespace()
        if pos == end { throw HooklineError.invalidJSON("empty input") }

        var frames: [Frame] = []
        var values: [JSONValue] = []
        var keys: [String] = []
        var current: JSONValue

        outer: while true {
            // Expecting a value at `pos` (whitespace already skipped).
            guard pos < end else { throw unexpectedEnd() }
            switch bytes[pos] {
            case ASCII.openBracket, ASCII.openBrace:
                let isObject = bytes[pos] == ASCII.openBrace
                if frames.count >= JSONValue.maximumDepth {
                    throw HooklineError.invalidJSON(
                        "nesting deeper than \(JSONValue.maximumDepth) levels at \(location(pos))")
                }
                pos += 1
                skipWhitespace()
                let close = isObject ? ASCII.closeBrace : ASCII.closeBracket
                if pos < end && bytes[pos] == close {
                    pos += 1
                    current = isObject ? .object(JSONObject()) : .array([])
                } else {
                    frames.append(Frame(isObject: isObject, valueBase: values.count, keyBase: keys.count))
                    if isObject { keys.append(try parseKeyAndColon()) }
                    continue outer
                }
            case ASCII.quote:
                current = .string(try parseString())
            case UInt8(ascii: "t"):
                try parseLiteral("true")
                current = .bool(true)
            case UInt8(ascii: "f"):
                try parseLiteral("false")
                current = .bool(false)
            case UInt8(ascii: "n"):
                try parseLiteral("null")
                current = .null
            case ASCII.minus, ASCII.zero...ASCII.nine:
                let start = pos
                current = .number(try parseNumber())
                if refusingUnsafeIntegers && lastNumberIsUnsafeInteger {
                    let field = Self.path(root: root, frames: frames, keys: keys, valueCount: values.count)
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                    throw HooklineError.invalidField(
                        field: field,
                        sentence: "'\(field)' is \(abbreviated(text)), an integer beyond ±2^53 that JavaScript cannot hold exactly; send it as a string.")
                }
            default:
                throw unexpectedCharacter()
            }

            // A value is complete in `current`: attach it to its container.
            while true {
                guard let frame = frames.last else {
                    skipWhitespace()
                    if pos != end {
                        if bytes[pos] >= 0x80 && decodeScalar(at: pos) == nil {
                            throw HooklineError.invalidJSON("invalid UTF-8 at byte \(pos)")
                        }
                        throw HooklineError.invalidJSON("unexpected data after the JSON value at \(location(pos))")
                    }
                    return current
                }
                values.append(current)
                skipWhitespace()
                guard pos < end else { throw unexpectedEnd() }
                let close = frame.isObject ? ASCII.closeBrace : ASCII.closeBracket
                let c = bytes[pos]
                if c == ASCII.comma {
                    let commaPos = pos
                    pos += 1
                    skipWhitespace()
                    if pos < end && bytes[pos] == close {
                        throw HooklineError.invalidJSON("trailing comma at \(location(commaPos))")
                    }
                    if frame.isObject { keys.append(try parseKeyAndColon()) }
                    continue outer
                } else if c == close {
                    pos += 1
                    frames.removeLast()
                    if frame.isObject {
                        current = .object(JSONObject(keys: keys[frame.keyBase...], values: values[frame.valueBase...]))
                        keys.removeSubrange(frame.keyBase...)
                    } else {
                        current = .array(Array(values[frame.valueBase...]))
                    }
                    values.removeSubrange(frame.valueBase...)
                } else {
                    throw unexpectedCharacter()
                }
            }
        }
    }

    /// Where the value being read sits: `data.amount`, `events[2].data`, or `body` at the top.
    private static func path(root: String?, frames: [Frame], keys: [String], valueCount: Int) -> String {
        var path = root ?? ""
        for (index, frame) in frames.enumerated() {
            let next = index + 1 < frames.count ? frames[index + 1] : nil
            if frame.isObject {
                let key = keys[(next?.keyBase ?? keys.count) - 1]
                path += path.isEmpty ? key : "." + key
            } else {
                path += "[\((next?.valueBase ?? valueCount) - frame.valueBase)]"
            }
        }
        return path.isEmpty ? "body" : path
    }

    /// Parses `"key"` `:` and the whitespace after the colon.
    private mutating func parseKeyAndColon() throws(HooklineError) -> String {
        guard pos < bytes.count else { throw unexpectedEnd() }
        guard bytes[pos] == ASCII.quote else { throw unexpectedCharacter() }
        let key = try parseString()
        skipWhitespace()
        guard pos < bytes.count else { throw unexpectedEnd() }
        guard bytes[pos] == ASCII.colon else { throw unexpectedCharacter() }
        pos += 1
        skipWhitespace()
        return key
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == ASCII.space || b == ASCII.lf || b == ASCII.cr || b == ASCII.tab {
                pos += 1
            } else {
                return
            }
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(HooklineError) {
        let count = word.utf8CodeUnitCount
        let w = word.utf8Start
        for i in 0..<count {
            guard pos < bytes.count else { throw unexpectedEnd() }
            guard bytes[pos] == w[i] else { throw unexpectedCharacter() }
            pos += 1
        }
    }

    // MARK: Strings

    /// Parses a string literal starting at the opening quote at `pos`.
    private mutating func parseString() throws(HooklineError) -> String {
        let start = pos
        pos += 1
        var runStart = pos
        var escaped = false
        let end = bytes.count
        while pos < end {
            let b = bytes[pos]
            if b == ASCII.quote {
                let string: String
                if escaped {
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<pos]))
                    string = String(decoding: scratch, as: UTF8.self)
                } else {
                    string = String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<pos]), as: UTF8.self)
                }
                pos += 1
                return string
            } else if b == ASCII.backslash {
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<pos]))
                try parseEscape(stringStart: start)
                runStart = pos
            } else if b < 0x20 {
                throw HooklineError.invalidJSON(
                    "unescaped control character \(scalarName(UInt32(b))) in string at \(location(pos))")
            } else if b < 0x80 {
                pos += 1
            } else {
                pos += try utf8SequenceLength(at: pos)
            }
        }
        throw HooklineError.invalidJSON("unterminated string starting at \(location(start))")
    }

    /// Decodes the escape at `pos` (a backslash) into `scratch`.
    private mutating func parseEscape(stringStart: Int) throws(HooklineError) {
        let escapeStart = pos
        pos += 1
        guard pos < bytes.count else {
            throw HooklineError.invalidJSON("unterminated string starting at \(location(stringStart))")
        }
        let c = bytes[pos]
        pos += 1
        switch c {
        case ASCII.quote: scratch.append(ASCII.quote)
        case ASCII.backslash: scratch.append(ASCII.backslash)
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalar: UInt32
            if unit >= 0xD800 && unit <= 0xDBFF {
                // Must be followed by an escaped low surrogate.
                if pos + 1 < bytes.count && bytes[pos] == ASCII.backslash && bytes[pos + 1] == UInt8(ascii: "u") {
                    let lowStart = pos
                    pos += 2
                    let low = try parseHex4(escapeStart: lowStart)
                    guard low >= 0xDC00 && low <= 0xDFFF else {
                        throw unpairedSurrogate(unit, at: escapeStart)
                    }
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    throw unpairedSurrogate(unit, at: escapeStart)
                }
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw unpairedSurrogate(unit, at: escapeStart)
            } else {
                scalar = unit
            }
            appendUTF8(scalar)
        default:
            pos = escapeStart + 1
            let shown: String
            if c >= 0x21 && c <= 0x7E {
                shown = "'\\\(Character(Unicode.Scalar(c)))'"
            } else {
                shown = "\\ followed by \(describeCharacter(at: pos))"
            }
            throw HooklineError.invalidJSON("invalid escape sequence \(shown) at \(location(escapeStart))")
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(HooklineError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count else {
                throw HooklineError.invalidJSON("incomplete \\u escape at \(location(escapeStart))")
            }
            let b = bytes[pos]
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default:
                throw HooklineError.invalidJSON("invalid \\u escape at \(location(escapeStart))")
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    private func unpairedSurrogate(_ unit: UInt32, at offset: Int) -> HooklineError {
        .invalidJSON("unpaired UTF-16 surrogate \\u\(hex(unit, width: 4)) at \(location(offset))")
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Validates the multi-byte UTF-8 sequence starting at `offset` and returns its length.
    private func utf8SequenceLength(at offset: Int) throws(HooklineError) -> Int {
        guard let (_, length) = decodeScalar(at: offset) else {
            throw HooklineError.invalidJSON("invalid UTF-8 at byte \(offset)")
        }
        return length
    }

    /// Decodes one well-formed UTF-8 scalar at `offset`, or nil if ill-formed.
    private func decodeScalar(at offset: Int) -> (UInt32, Int)? {
        let end = bytes.count
        let b0 = bytes[offset]
        @inline(__always) func cont(_ i: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> UInt32? {
            guard i < end else { return nil }
            let b = bytes[i]
            guard b >= lo && b <= hi else { return nil }
            return UInt32(b & 0x3F)
        }
        switch b0 {
        case 0x00...0x7F:
            return (UInt32(b0), 1)
        case 0xC2...0xDF:
            guard let c1 = cont(offset + 1) else { return nil }
            return (UInt32(b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            guard let c1 = cont(offset + 1, lo, hi), let c2 = cont(offset + 2) else { return nil }
            return (UInt32(b0 & 0x0F) << 12 | c1 << 6 | c2, 3)
        case 0xF0...0xF4:
            let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            guard let c1 = cont(offset + 1, lo, hi), let c2 = cont(offset + 2), let c3 = cont(offset + 3) else {
                return nil
            }
            return (UInt32(b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
        default:
            return nil
        }
    }

    // MARK: Numbers

    private static let powersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    private mutating func parseNumber() throws(HooklineError) -> Double {
        let start = pos
        let end = bytes.count
        var negative = false
        if bytes[pos] == ASCII.minus {
            negative = true
            pos += 1
        }
        @inline(__always) func isDigit(_ i: Int) -> Bool {
            i < end && bytes[i] >= ASCII.zero && bytes[i] <= ASCII.nine
        }

        var mantissa: UInt64 = 0
        var significantDigits = 0  // digits after leading zeros
        var fractionDigits = 0

        guard isDigit(pos) else {
            throw invalidNumber(start, upTo: pos, "a digit must follow '-'")
        }
        if bytes[pos] == ASCII.zero {
            pos += 1
            if isDigit(pos) {
                var e = pos
                while isDigit(e) { e += 1 }
                throw invalidNumber(start, upTo: e, "leading zeros are not allowed")
            }
        } else {
            while isDigit(pos) {
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[pos] - ASCII.zero)
                }
                significantDigits += 1
                pos += 1
            }
        }
        if pos < end && bytes[pos] == ASCII.dot {
            pos += 1
            guard isDigit(pos) else {
                throw invalidNumber(start, upTo: pos, "a digit must follow '.'")
            }
            while isDigit(pos) {
                let digit = UInt64(bytes[pos] - ASCII.zero)
                if significantDigits == 0 && digit == 0 {
                    fractionDigits += 1  // leading zero of the fraction
                } else {
                    if significantDigits < 19 {
                        mantissa = mantissa &* 10 &+ digit
                        fractionDigits += 1
                    }
                    significantDigits += 1
                }
                pos += 1
            }
        }
        var exponent = 0
        if pos < end && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            pos += 1
            var exponentNegative = false
            if pos < end && (bytes[pos] == ASCII.plus || bytes[pos] == ASCII.minus) {
                exponentNegative = bytes[pos] == ASCII.minus
                pos += 1
            }
            guard isDigit(pos) else {
                throw invalidNumber(start, upTo: pos, "the exponent needs digits")
            }
            while isDigit(pos) {
                if exponent < 1_000_000 {
                    exponent = exponent * 10 + Int(bytes[pos] - ASCII.zero)
                }
                pos += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        // An integer literal (digits only) whose value a Double cannot keep exactly.
        lastNumberIsUnsafeInteger = (significantDigits > 19 || mantissa > JSONParser.largestExactInteger)
            && !bytes[start..<pos].contains { $0 == ASCII.dot || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        if mantissa == 0 && significantDigits == 0 {
            return negative ? -0.0 : 0.0
        }
        // Fast path (exact operands, one correctly rounded operation).
        if significantDigits <= 15 {
            let e10 = exponent - fractionDigits
            if e10 >= -22 && e10 <= 22 {
                var value = Double(mantissa)
                if e10 >= 0 {
                    value *= JSONParser.powersOf10[e10]
                } else {
                    value /= JSONParser.powersOf10[-e10]
                }
                if value.isFinite { return negative ? -value : value }
            }
        }
        // Slow path: the standard library's correctly rounded conversion.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw HooklineError.invalidJSON("number \(abbreviated(text)) at \(location(start)) is out of range")
        }
        return value
    }

    private func invalidNumber(_ start: Int, upTo end: Int, _ reason: String) -> HooklineError {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(end, bytes.count)]), as: UTF8.self)
        return .invalidJSON("invalid number '\(abbreviated(text))' at \(location(start)) (\(reason))")
    }

    private func abbreviated(_ text: String) -> String {
        text.utf8.count <= 40 ? text : String(text.prefix(40)) + "…"
    }

    // MARK: Errors

    private func unexpectedEnd() -> HooklineError {
        .invalidJSON("unexpected end of input at \(location(bytes.count))")
    }

    /// An error for the character at `pos` (or invalid UTF-8 there).
    private func unexpectedCharacter() -> HooklineError {
        if pos >= bytes.count { return unexpectedEnd() }
        if bytes[pos] >= 0x80 && decodeScalar(at: pos) == nil {
            return .invalidJSON("invalid UTF-8 at byte \(pos)")
        }
        return .invalidJSON("unexpected character \(describeCharacter(at: pos)) at \(location(pos))")
    }

    private func describeCharacter(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        guard let (scalar, _) = decodeScalar(at: offset) else { return "byte 0x\(hex(UInt32(bytes[offset]), width: 2))" }
        if scalar == 0x27 { return "\"'\"" }
        if scalar >= 0x20 && scalar <= 0x7E { return "'\(Character(Unicode.Scalar(UInt8(scalar))))'" }
        return scalarName(scalar)
    }

    private func scalarName(_ scalar: UInt32) -> String {
        "U+\(hex(scalar, width: 4).uppercased())"
    }

    private func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// "line L, column C" for a byte offset; lines end at LF, CR LF or CR,
    /// columns count Unicode scalars from 1.
    private func location(_ offset: Int) -> String {
        var line = 1
        var column = 1
        var i = 0
        let limit = min(offset, bytes.count)
        while i < limit {
            let b = bytes[i]
            if b == ASCII.lf {
                line += 1
                column = 1
            } else if b == ASCII.cr {
                if i + 1 < bytes.count && bytes[i + 1] == ASCII.lf {
                    // counted with the LF
                } else {
                    line += 1
                    column = 1
                }
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return "line \(line), column \(column)"
    }
}
