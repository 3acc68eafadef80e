import Foundation
@testable import HooklineCore
import Testing

// Canonical JSON: JSONValue.parse(x).canonicalBytes must equal
// JSON.stringify(JSON.parse(x)) in JavaScript. The expected outputs below were
// produced once with Node 20 and written down literally.

enum CanonicalJSONFixtures {
    /// A realistic webhook payload (note "lifetime_value": 1250.00 and the integer keys).
    static let guidePayload = #"""
        {
          "event": "case.updated",
          "id": "evt_01HZY3",
          "created_at": "2024-05-01T12:00:00Z",
          "case": {
            "id": "case_123",
            "status": "open",
            "priority": 2,
            "customer": {
              "id": "cus_42",
              "name": "Zo\u00eb Müller",
              "email": "zoe@example.com",
              "lifetime_value": 1250.00,
              "tags": ["vip", "b2b"],
              "2": "second",
              "1": "first"
            },
            "notes": "Line one\nLine two \u2014 \"quoted\"",
            "sla_hours": 4.50,
            "escalated": false,
            "assignee": null
          }
        }
        """#

    /// (input, JSON.stringify(JSON.parse(input)))
    static let corpus: [(String, String)] = [
    // MARK: Numbers
    (#"1250.00"#,
     #"1250"#),
    (#"-0"#,
     #"0"#),
    (#"-0.0"#,
     #"0"#),
    (#"[0e0,-0e-0,0.0e+100,0E5]"#,
     #"[0,0,0,0]"#),
    (#"1e21"#,
     #"1e+21"#),
    (#"-1e21"#,
     #"-1e+21"#),
    (#"1e20"#,
     #"100000000000000000000"#),
    (#"999999999999999999999"#,
     #"1e+21"#),
    (#"100000000000000000000.5"#,
     #"100000000000000000000"#),
    (#"0.0000001"#,
     #"1e-7"#),
    (#"0.000001"#,
     #"0.000001"#),
    (#"0.000001234"#,
     #"0.000001234"#),
    (#"-1.5e-7"#,
     #"-1.5e-7"#),
    (#"123e-20"#,
     #"1.23e-18"#),
    (#"12345678901234567890"#,
     #"12345678901234567000"#),
    (#"123456789012345678901234567890"#,
     #"1.2345678901234568e+29"#),
    (#"9007199254740991"#,
     #"9007199254740991"#),
    (#"9007199254740993"#,
     #"9007199254740992"#),
    (#"[1e15,1e16,1e17,-1e16]"#,
     #"[1000000000000000,10000000000000000,100000000000000000,-10000000000000000]"#),
    (#"5e-324"#,
     #"5e-324"#),
    (#"4.9406564584124654e-324"#,
     #"5e-324"#),
    (#"2.2250738585072014e-308"#,
     #"2.2250738585072014e-308"#),
    (#"1.7976931348623157e308"#,
     #"1.7976931348623157e+308"#),
    (#"17976931348623158e292"#,
     #"1.7976931348623157e+308"#),
    (#"1e-400"#,
     #"0"#),
    (#"-1e-400"#,
     #"0"#),
    (#"[0.1,0.2,0.30000000000000004]"#,
     #"[0.1,0.2,0.30000000000000004]"#),
    (#"1E+2"#,
     #"100"#),
    (#"1e-5"#,
     #"0.00001"#),
    (#"2.5E-5"#,
     #"0.000025"#),
    (#"1.0e+0"#,
     #"1"#),
    (#"-12.50"#,
     #"-12.5"#),
    (#"123456789e-5"#,
     #"1234.56789"#),
    (#"0.1000000000000000055511151231257827021181583404541015625"#,
     #"0.1"#),
    (#"1.00000000000000011102230246251565404236316680908203125"#,
     #"1"#),
    (#"1.00000000000000011102230246251565404236316680908203125000001"#,
     #"1.0000000000000002"#),
    (#"[1.5,-2.25,3.125e2,4e-3]"#,
     #"[1.5,-2.25,312.5,0.004]"#),
    (#"[2e-7,2e-6,123456.789e3,0.5e-6]"#,
     #"[2e-7,0.000002,123456789,5e-7]"#),
    (#"1.7976931348623157e-308"#,
     #"1.7976931348623155e-308"#),
    (#"0.0000000000000000000000000000001e31"#,
     #"1"#),
    // MARK: Strings and escapes
    (#""""#,
     #""""#),
    (#""plain""#,
     #""plain""#),
    (#""\u0000\u0001\u001f""#,
     #""\u0000\u0001\u001f""#),
    (#""\b\f\n\r\t""#,
     #""\b\f\n\r\t""#),
    (#""\u000b\u000e\u0010\u001a""#,
     #""\u000b\u000e\u0010\u001a""#),
    (#""\/ and /""#,
     #""/ and /""#),
    (#""\"\\""#,
     #""\"\\""#),
    (#""\u00e9\u00E9""#,
     #""éé""#),
    (#""\ud83d\ude00""#,
     #""😀""#),
    (#""\uD83D\uDE00\uDBFF\uDFFF\uD800\uDC00""#,
     "\"😀\u{10FFFF}𐀀\""),
    (#""\u2028\u2029""#,
     "\"\u{2028}\u{2029}\""),
    (#""\u007f""#,
     "\"\u{7F}\""),
    (#""\u0020\u0041\u005c\u0022\u002f""#,
     #"" A\\\"/""#),
    (#""é😀中 raw""#,
     #""é😀中 raw""#),
    (#""\ufeff\uffff\ufffe""#,
     "\"\u{FEFF}\u{FFFF}\u{FFFE}\""),
    (#""a\u0000b""#,
     #""a\u0000b""#),
    ("\"\u{2028} raw \u{2029} and \u{7F} raw\"",
     "\"\u{2028} raw \u{2029} and \u{7F} raw\""),
    (#""e\u0301""#,
     "\"e\u{301}\""),
    ("\"tab\\t and \u{A0} nbsp\"",
     "\"tab\\t and \u{A0} nbsp\""),
    (#""\u0080\u07ff\u0800\uffff""#,
     "\"\u{80}߿ࠀ\u{FFFF}\""),
    // MARK: Key order, duplicates, integer keys
    (#"{"b":1,"a":2}"#,
     #"{"b":1,"a":2}"#),
    (#"{"b":1,"2":2,"1":3,"a":4}"#,
     #"{"1":3,"2":2,"b":1,"a":4}"#),
    (#"{"10":1,"9":2,"a":0,"0":3}"#,
     #"{"0":3,"9":2,"10":1,"a":0}"#),
    (#"{"01":1,"1":2}"#,
     #"{"1":2,"01":1}"#),
    (#"{"-1":1,"0":2}"#,
     #"{"0":2,"-1":1}"#),
    (#"{"1.0":1,"1":2,"1e0":3}"#,
     #"{"1":2,"1.0":1,"1e0":3}"#),
    (#"{"4294967294":1,"4294967295":2,"4294967296":3,"0":4}"#,
     #"{"0":4,"4294967294":1,"4294967295":2,"4294967296":3}"#),
    (#"{" 1":1,"1 ":2,"1":3,"+1":4}"#,
     #"{"1":3," 1":1,"1 ":2,"+1":4}"#),
    (#"{"":1,"0":2}"#,
     #"{"0":2,"":1}"#),
    (#"{"١":1,"1":2}"#,
     #"{"1":2,"١":1}"#),
    (#"{"9007199254740993":1,"5":2}"#,
     #"{"5":2,"9007199254740993":1}"#),
    (#"{"a":1,"b":2,"a":3}"#,
     #"{"a":3,"b":2}"#),
    (#"{"a":1,"a":{"x":1},"a":[2]}"#,
     #"{"a":[2]}"#),
    (#"{"3":1,"1":2,"3":3}"#,
     #"{"1":2,"3":3}"#),
    (#"{"a":{"b":1,"b":2},"a":{"c":3}}"#,
     #"{"a":{"c":3}}"#),
    (#"{"__proto__":1,"a":2}"#,
     #"{"__proto__":1,"a":2}"#),
    (#"{"__proto__":{"polluted":true},"x":1,"__proto__":null}"#,
     #"{"__proto__":null,"x":1}"#),
    (#"{"constructor":1,"toString":2,"hasOwnProperty":3}"#,
     #"{"constructor":1,"toString":2,"hasOwnProperty":3}"#),
    ("{\"é\":1,\"e\u{301}\":2,\"é\":3}",
     "{\"é\":3,\"e\u{301}\":2}"),
    (#"{"\u00e9":1,"é":2}"#,
     #"{"é":2}"#),
    (#"{"a\u0000":1,"a":2}"#,
     #"{"a\u0000":1,"a":2}"#),
    (#"{"k0":0,"k1":1,"k2":2,"20":20,"19":19,"18":18,"17":17,"16":16,"k3":3,"15":15,"14":14,"13":13,"12":12,"11":11,"10":10,"k4":4,"k5":5,"k6":6,"k3":33,"12":1212,"0":0,"4294967295":-1,"k7":7}"#,
     #"{"0":0,"10":10,"11":11,"12":1212,"13":13,"14":14,"15":15,"16":16,"17":17,"18":18,"19":19,"20":20,"k0":0,"k1":1,"k2":2,"k3":33,"k4":4,"k5":5,"k6":6,"4294967295":-1,"k7":7}"#),
    // MARK: Literals, nesting, whitespace
    (#"true"#,
     #"true"#),
    (#"false"#,
     #"false"#),
    (#"null"#,
     #"null"#),
    (#"[]"#,
     #"[]"#),
    (#"{}"#,
     #"{}"#),
    (#"[[]]"#,
     #"[[]]"#),
    (#"[{}]"#,
     #"[{}]"#),
    (#"[null,true,false]"#,
     #"[null,true,false]"#),
    (#"[[[[[[[[[[1]]]]]]]]]]"#,
     #"[[[[[[[[[[1]]]]]]]]]]"#),
    (#"{"a":{"b":{"c":{"d":[1,{"e":null}]}}}}"#,
     #"{"a":{"b":{"c":{"d":[1,{"e":null}]}}}}"#),
    ("  {\n\t\"a\" : [ 1 ,\r\n 2 ] ,\"b\":{ } } \n",
     #"{"a":[1,2],"b":{}}"#),
    ("\t\r\n 1 \t\r\n",
     #"1"#),
    ("[\n  \"x\",\n  {\"y\" :\t\"z\"}\n]",
     #"["x",{"y":"z"}]"#),
    (#"[1,[2,[3,[4,{"5":[6]}]]]]"#,
     #"[1,[2,[3,[4,{"5":[6]}]]]]"#),
    // MARK: Guide payload
    (guidePayload,
     #"{"event":"case.updated","id":"evt_01HZY3","created_at":"2024-05-01T12:00:00Z","case":{"id":"case_123","status":"open","priority":2,"customer":{"1":"first","2":"second","id":"cus_42","name":"Zoë Müller","email":"zoe@example.com","lifetime_value":1250,"tags":["vip","b2b"]},"notes":"Line one\nLine two — \"quoted\"","sla_hours":4.5,"escalated":false,"assignee":null}}"#),
    ]
}

// MARK: - Rejected inputs

struct CanonicalJSONRejection: Sendable, CustomTestStringConvertible {
    let bytes: [UInt8]
    let fragments: [String]
    let label: String

    init(_ text: String, _ fragments: String...) {
        self.bytes = Array(text.utf8)
        self.fragments = fragments
        self.label = text.count > 40 ? String(text.prefix(40)) + "…" : text
    }

    init(bytes: [UInt8], _ fragments: String...) {
        self.bytes = bytes
        self.fragments = fragments
        self.label = bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }

    var testDescription: String { label.debugDescription }
}

extension CanonicalJSONFixtures {
    static let rejections: [CanonicalJSONRejection] = [
        // Empty
        .init("", "empty input"),
        .init(" \t\r\n ", "empty input"),
        // Trailing commas (reported at the comma)
        .init("[1,2,3,]", "trailing comma at line 1, column 7"),
        .init(#"{"a":1,}"#, "trailing comma at line 1, column 7"),
        .init("{\"a\":1,\n  }", "trailing comma at line 1, column 7"),
        .init("[[],\n]", "trailing comma at line 1, column 4"),
        // Number grammar
        .init("01", "invalid number '01'", "line 1, column 1", "leading zero"),
        .init("[-012]", "invalid number '-012'", "line 1, column 2"),
        .init("+1", "unexpected character '+' at line 1, column 1"),
        .init(".5", "unexpected character '.' at line 1, column 1"),
        .init("[1.]", "invalid number '1.'", "line 1, column 2"),
        .init("1.e5", "invalid number '1.'"),
        .init("1e", "invalid number '1e'", "exponent"),
        .init("1e+", "invalid number '1e+'"),
        .init("-", "invalid number '-'", "line 1, column 1"),
        .init("-x", "invalid number '-'"),
        .init("0x10", "unexpected data after the JSON value at line 1, column 2"),
        .init("NaN", "unexpected character 'N' at line 1, column 1"),
        .init("Infinity", "unexpected character 'I' at line 1, column 1"),
        .init("-Infinity", "invalid number '-'"),
        .init("1e400", "number 1e400 at line 1, column 1 is out of range"),
        .init("-1e400", "number -1e400 at line 1, column 1 is out of range"),
        .init("[1, 1.8e308]", "number 1.8e308 at line 1, column 5 is out of range"),
        .init("123456789012345678901234567890e290", "out of range"),
        // Quotes, comments, literals
        .init("'a'", "unexpected character \"'\" at line 1, column 1"),
        .init("{'a':1}", "unexpected character \"'\" at line 1, column 2"),
        .init("// c\n1", "unexpected character '/' at line 1, column 1"),
        .init("[1/*x*/]", "unexpected character '/' at line 1, column 3"),
        .init(#"{"a":1 /*c*/}"#, "unexpected character '/' at line 1, column 8"),
        .init("tru", "unexpected end of input at line 1, column 4"),
        .init("trux", "unexpected character 'x' at line 1, column 4"),
        .init("True", "unexpected character 'T' at line 1, column 1"),
        .init("nul", "unexpected end of input"),
        .init("undefined", "unexpected character 'u'"),
        // Strings
        .init("\"a\tb\"", "unescaped control character U+0009 in string at line 1, column 3"),
        .init("\"a\nb\"", "unescaped control character U+000A"),
        .init("[\"\u{0}\"]", "unescaped control character U+0000 in string at line 1, column 3"),
        .init(#""\x""#, #"invalid escape sequence '\x' at line 1, column 2"#),
        .init(#""\U0041""#, #"invalid escape sequence '\U'"#),
        .init(#""\'""#, #"invalid escape sequence '\''"#),
        .init(#""\u12""#, #"invalid \u escape at line 1, column 2"#),
        .init(#""\u12G4""#, #"invalid \u escape"#),
        .init(#""abc"#, "unterminated string starting at line 1, column 1"),
        .init(#"["ok", "abc"#, "unterminated string starting at line 1, column 8"),
        .init(#""abc\"#, "unterminated string starting at line 1, column 1"),
        // Unpaired surrogates (deliberately rejected)
        .init(#""\ud800""#, #"unpaired UTF-16 surrogate \ud800 at line 1, column 2"#),
        .init(#"["\ud800"]"#, #"unpaired UTF-16 surrogate \ud800 at line 1, column 3"#),
        .init(#""\udc00x""#, #"unpaired UTF-16 surrogate \udc00 at line 1, column 2"#),
        .init(#""\ud800\u0041""#, #"unpaired UTF-16 surrogate \ud800"#),
        .init(#""\uD800\uD800""#, #"unpaired UTF-16 surrogate \ud800 at line 1, column 2"#),
        .init(#""ok\uDBFF""#, #"unpaired UTF-16 surrogate \udbff at line 1, column 4"#),
        .init(#""\ude00\ud83d""#, #"unpaired UTF-16 surrogate \ude00"#),
        .init(#"{"\udfff":1}"#, #"unpaired UTF-16 surrogate \udfff at line 1, column 3"#),
        // Structure
        .init("1 2", "unexpected data after the JSON value at line 1, column 3"),
        .init("{}\n{}", "unexpected data after the JSON value at line 2, column 1"),
        .init("[1]]", "unexpected data after the JSON value at line 1, column 4"),
        .init("[1 2]", "unexpected character '2' at line 1, column 4"),
        .init(#"{"a" 1}"#, "unexpected character '1' at line 1, column 6"),
        .init(#"{"a":}"#, "unexpected character '}' at line 1, column 6"),
        .init("{1:2}", "unexpected character '1' at line 1, column 2"),
        .init(#"{"a":1 "b":2}"#, "unexpected character '\"' at line 1, column 8"),
        .init("[,1]", "unexpected character ',' at line 1, column 2"),
        .init("[1,,2]", "unexpected character ',' at line 1, column 4"),
        .init("{,}", "unexpected character ',' at line 1, column 2"),
        .init("[1}", "unexpected character '}' at line 1, column 3"),
        .init("[", "unexpected end of input at line 1, column 2"),
        .init("[1,2", "unexpected end of input at line 1, column 5"),
        .init(#"{"a":"#, "unexpected end of input at line 1, column 6"),
        .init(#"{"a""#, "unexpected end of input"),
        // Positions across lines and non-ASCII text
        .init("[\n  1,\n  x\n]", "unexpected character 'x' at line 3, column 3"),
        .init("[\r\n1,\r\n  x]", "unexpected character 'x' at line 3, column 3"),
        .init("[\"é😀\", x]", "unexpected character 'x' at line 1, column 8"),
        // Whitespace JSON does not allow
        .init("\u{FEFF}1", "unexpected character U+FEFF", "line 1, column 1"),
        .init("\u{00A0}1", "unexpected character U+00A0 at line 1, column 1"),
        .init("\u{0B}1", "unexpected character U+000B at line 1, column 1"),
        .init("[1,\u{0C}2]", "unexpected character U+000C at line 1, column 4"),
        .init("[1,\u{2028}2]", "unexpected character U+2028 at line 1, column 4"),
        .init("\u{0}", "unexpected character U+0000 at line 1, column 1"),
        .init("é", "unexpected character U+00E9 at line 1, column 1"),
        // Invalid UTF-8 (byte offsets are 0-based)
        .init(bytes: [0x22, 0xFF, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xC1, 0xBF, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 at byte 2"),
        .init(bytes: [0x22, 0xED, 0xBF, 0xBF, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xE2, 0x82, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xE2, 0x82], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x22, 0x80, 0x22], "invalid UTF-8 at byte 1"),
        .init(bytes: [0x5B, 0x31, 0x2C, 0x80, 0x5D], "invalid UTF-8 at byte 3"),
        .init(bytes: [0x31, 0x20, 0xC3], "invalid UTF-8 at byte 2"),
        .init(bytes: [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], "U+FEFF", "line 1, column 1"),
        // Depth
        .init(String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
              "nesting deeper than 512 levels at line 1, column 513"),
        .init(String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513),
              "nesting deeper than 512 levels at line 1, column 2561"),
        .init(String(repeating: "[", count: 100_000), "nesting deeper than 512 levels at line 1, column 513"),
    ]
}

// MARK: - Node lookup and random documents

private let canonicalJSONNodePath: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") where !directory.isEmpty {
        let candidate = "\(directory)/node"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}()

private struct CanonicalJSONSplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates random, valid JSON text (random whitespace, escapes, numbers in
/// many spellings, astral characters, integer-like and duplicate keys).
private struct CanonicalJSONRandomDocuments {
    var rng: CanonicalJSONSplitMix64

    init(seed: UInt64) { rng = CanonicalJSONSplitMix64(state: seed) }

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    mutating func document() -> String {
        var s = ""
        whitespace(&s)
        value(depth: 0, into: &s)
        whitespace(&s)
        return s
    }

    mutating func whitespace(_ s: inout String) {
        guard int(3) == 0 else { return }
        for _ in 0..<(1 + int(3)) { s.append(pick([" ", "\t", "\n", "\r", "\r\n"])) }
    }

    mutating func value(depth: Int, into s: inout String) {
        switch depth >= 5 ? int(4) : int(7) {
        case 0, 3: number(into: &s)
        case 1: string(into: &s)
        case 2: s.append(pick(["true", "false", "null"]))
        case 4: array(depth: depth, into: &s)
        default: object(depth: depth, into: &s)
        }
    }

    mutating func array(depth: Int, into s: inout String) {
        s.append("[")
        whitespace(&s)
        let n = int(6)
        for i in 0..<n {
            if i > 0 { s.append(","); whitespace(&s) }
            value(depth: depth + 1, into: &s)
            whitespace(&s)
        }
        s.append("]")
    }

    static let keyPool = [
        #""0""#, #""1""#, #""2""#, #""7""#, #""10""#, #""42""#, #""100""#, #""4294967294""#, #""4294967295""#,
        #""4294967296""#, #""01""#, #""-1""#, #""1.0""#, #"" 1""#, #""""#, #""__proto__""#, #""a""#, #""b""#,
        #""é""#, "\"e\u{301}\"", #""\u00e9""#, #""\u0031""#, #""\u0030""#, #""constructor""#, #""id""#,
    ]

    mutating func object(depth: Int, into s: inout String) {
        s.append("{")
        whitespace(&s)
        let n = int(8) == 0 ? 17 + int(20) : int(7)
        for i in 0..<n {
            if i > 0 { s.append(","); whitespace(&s) }
            if int(2) == 0 {
                s.append(pick(CanonicalJSONRandomDocuments.keyPool))
            } else if int(3) == 0 {
                s.append("\"\(int(50))\"")
            } else {
                string(into: &s)
            }
            whitespace(&s)
            s.append(":")
            whitespace(&s)
            value(depth: depth + 1, into: &s)
            whitespace(&s)
        }
        s.append("}")
    }

    mutating func digits(_ count: Int, leadingNonZero: Bool) -> String {
        var s = ""
        for i in 0..<count { s.append(String(i == 0 && leadingNonZero ? 1 + int(9) : int(10))) }
        return s
    }

    mutating func number(into s: inout String) {
        switch int(7) {
        case 0, 1:
            var d: Double
            repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
            s.append("\(d)")  // Swift's description is valid JSON for finite values
        case 2:
            s.append(String(Int64(bitPattern: rng.next()) >> UInt64(int(64))))
        case 3:
            let intDigits = 1 + int(25)
            if int(3) == 0 { s.append("-") }
            s.append(int(5) == 0 ? "0" : digits(intDigits, leadingNonZero: true))
            if int(2) == 0 { s.append("."); s.append(digits(1 + int(20), leadingNonZero: false)) }
            if int(2) == 0 {
                s.append(pick(["e", "E"]))
                let exponent = int(600) - 330
                let clamped = min(exponent, 300 - intDigits)
                s.append(clamped < 0 ? "-" : pick(["", "+"]))
                s.append(String(repeating: "0", count: int(3)))
                s.append(String(abs(clamped)))
            }
        case 4:
            s.append(pick([
                "0", "-0", "0.0", "1250.00", "1e21", "1e20", "1e-7", "0.000001", "123e-20", "5e-324",
                "1.7976931348623157e308", "9007199254740993", "0.1", "2.5e-5", "1e-400", "-1e-400",
                "4294967295", "100", "1.5", "-2.75e3", "2.2250738585072014e-308", "0.30000000000000004",
            ]))
        case 5:
            let d = Double(rng.next() >> 11) * Double(sign: .plus, exponent: -(int(80)), significand: 1)
            s.append("\(d)")
        default:
            s.append(digits(1 + int(6), leadingNonZero: true))
            s.append(".")
            s.append(String(repeating: "0", count: 1 + int(3)))
        }
    }

    mutating func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        let padded = String(repeating: "0", count: 4 - h.count) + h
        return int(2) == 0 ? padded : padded.uppercased()
    }

    mutating func string(into s: inout String) {
        s.append("\"")
        for _ in 0..<int(10) {
            switch int(11) {
            case 0:
                let c = UInt8(0x20 + int(0x5F))
                if c == 0x22 || c == 0x5C { s.append("\\") }
                s.append(Character(Unicode.Scalar(c)))
            case 1:
                s.append(pick([#"\""#, #"\\"#, #"\/"#, #"\b"#, #"\f"#, #"\n"#, #"\r"#, #"\t"#]))
            case 2:
                var v: UInt32
                repeat { v = UInt32(int(0x10000)) } while (0xD800...0xDFFF).contains(v)
                s.append("\\u" + hex4(v))
            case 3:
                let scalar = UInt32(0x10000 + int(0x100000))
                let high = 0xD800 + ((scalar - 0x10000) >> 10)
                let low = 0xDC00 + ((scalar - 0x10000) & 0x3FF)
                s.append("\\u" + hex4(high) + "\\u" + hex4(low))
            case 4:
                s.unicodeScalars.append(Unicode.Scalar(UInt32(0x10000 + int(0x100000)))!)
            case 5:
                var v: UInt32
                repeat { v = UInt32(0x80 + int(0x10000 - 0x80)) } while (0xD800...0xDFFF).contains(v)
                s.unicodeScalars.append(Unicode.Scalar(v)!)
            case 6:
                s.append(pick(["é", "e\u{301}", "\u{2028}", "\u{2029}", "\u{7F}", "\u{FEFF}", "\u{FFFF}", "中", "😀", "👩‍👩‍👧"]))
            case 7:
                s.append("\\u" + hex4(UInt32(int(0x20))))
            case 8:
                s.append(pick([#"\u2028"#, #"\u007f"#, #"\u0000"#, #"\u00e9"#, #"\ud83d\ude00"#, #"\u002F"#]))
            default:
                s.append(pick(["id", "name", "x", "hello world", "0", "42"]))
            }
        }
        s.append("\"")
    }
}

// MARK: - Tests

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test("corpus has enough cases")
    func corpusSize() {
        #expect(CanonicalJSONFixtures.corpus.count >= 60)
    }

    @Test("canonical bytes match JSON.stringify(JSON.parse(x))", arguments: CanonicalJSONFixtures.corpus)
    func canonicalCorpus(input: String, expected: String) throws {
        let value = try JSONValue.parse(input)
        #expect(value.canonicalString == expected)
        #expect(value.canonicalBytes == Array(expected.utf8))
        // Also through the byte-collection entry point and a non-contiguous collection.
        #expect(try JSONValue.parse(Array(input.utf8)).canonicalBytes == Array(expected.utf8))
        #expect(try JSONValue.parse(Array(input.utf8)[...]).canonicalBytes == Array(expected.utf8))
        // Canonical form is a fixed point.
        let reparsed = try JSONValue.parse(expected)
        #expect(reparsed.canonicalString == expected)
        #expect(reparsed == value)
        #expect(reparsed.hashValue == value.hashValue)
    }

    @Test("rejected inputs name what and where", arguments: CanonicalJSONFixtures.rejections)
    func rejected(_ rejection: CanonicalJSONRejection) {
        do {
            let value = try JSONValue.parse(rejection.bytes)
            Issue.record("accepted, giving \(value.canonicalString)")
        } catch {
            guard case .invalidJSON(let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            for fragment in rejection.fragments {
                #expect(message.contains(fragment), "message: \(message)")
            }
        }
    }

    @Test("the String and byte entry points agree on errors")
    func stringEntryPointErrors() {
        #expect(throws: HooklineError.invalidJSON("trailing comma at line 1, column 7")) {
            try JSONValue.parse("[1,2,3,]")
        }
        #expect(throws: HooklineError.invalidJSON("empty input")) {
            try JSONValue.parse("")
        }
    }

    @Test("512 levels of nesting parse, serialize, compare and hash on a 512 KiB thread")
    func deepNestingOnSmallStack() async {
        let ok: Bool = await withCheckedContinuation { continuation in
            let thread = Thread {
                var ok = true
                let arrays = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
                let objects = String(repeating: #"{"a":"#, count: 511) + "[1]" + String(repeating: "}", count: 511)
                for text in [arrays, objects] {
                    guard let value = try? JSONValue.parse(text) else {
                        ok = false
                        continue
                    }
                    ok = ok && value.canonicalString == text
                    ok = ok && value == (try? JSONValue.parse(text))
                    ok = ok && value.hashValue == (try? JSONValue.parse(text))?.hashValue
                    ok = ok && value.prettyString.count > text.count
                }
                let tooDeep = String(repeating: "[", count: 200_000)
                ok = ok && (try? JSONValue.parse(tooDeep)) == nil
                continuation.resume(returning: ok)
            }
            thread.stackSize = 512 * 1024
            thread.start()
        }
        #expect(ok)
    }

    @Test("paths, type names and accessors")
    func accessors() throws {
        let value = try JSONValue.parse(CanonicalJSONFixtures.guidePayload)
        #expect(value.value(atPath: "case.customer.id") == .string("cus_42"))
        #expect(value.value(atPath: "case.customer.lifetime_value") == .number(1250))
        #expect(value.value(atPath: "case.customer.1")?.stringValue == "first")
        #expect(value.value(atPath: "case.customer.missing") == nil)
        #expect(value.value(atPath: "case.customer.id.deeper") == nil)
        #expect(value.value(atPath: "case.customer.tags.0") == nil)  // arrays are not indexed
        #expect(value.value(atPath: "case.assignee") == .null)
        #expect(value.value(atPath: "event") == .string("case.updated"))
        #expect(value.value(atPath: "") == nil)
        #expect(try JSONValue.parse(#"{"":{"":3}}"#).value(atPath: ".") == .number(3))
        #expect(try JSONValue.parse(#"{"a.b":1}"#).value(atPath: "a.b") == nil)

        #expect(value.typeName == "object")
        #expect(value["case"]?["customer"]?["tags"]?.typeName == "array")
        #expect(value["event"]?.typeName == "string")
        #expect(value["case"]?["priority"]?.typeName == "number")
        #expect(value["case"]?["escalated"]?.typeName == "boolean")
        #expect(value["case"]?["assignee"]?.typeName == "null")

        #expect(value["event"]?.stringValue == "case.updated")
        #expect(value["case"]?["sla_hours"]?.doubleValue == 4.5)
        #expect(value["case"]?["escalated"]?.boolValue == false)
        #expect(value["case"]?["customer"]?["tags"]?.arrayValue == [.string("vip"), .string("b2b")])
        #expect(value.objectValue?.keys == ["event", "id", "created_at", "case"])
        #expect(value["event"]?["x"] == nil)
        #expect(value["event"]?.objectValue == nil)
        #expect(value.stringValue == nil)
        #expect(value.doubleValue == nil)
        #expect(JSONValue.array([])["a"] == nil)
    }

    @Test("pretty form matches JSON.stringify(v, null, 2)")
    func pretty() throws {
        let value = try JSONValue.parse(#"{"b":[1,{},[],{"c":"x\n"}],"a":{},"1":null}"#)
        let expected = """
            {
              "1": null,
              "b": [
                1,
                {},
                [],
                {
                  "c": "x\\n"
                }
              ],
              "a": {}
            }
            """
        #expect(value.prettyString == expected)
        #expect(JSONValue.number(1e21).prettyString == "1e+21")
        #expect(JSONValue.array([]).prettyString == "[]")
        #expect(JSONValue.object(JSONObject()).prettyString == "{}")
        #expect(try JSONValue.parse(value.prettyString) == value)
    }

    @Test("JSONObject assignment follows JavaScript")
    func objectAssignment() {
        var object = JSONObject()
        #expect(object.count == 0)
        object["b"] = .number(1)
        object["a"] = .number(2)
        object["10"] = .number(3)
        object["2"] = .number(4)
        object["b"] = .string("again")  // keeps its position
        object["01"] = .bool(true)  // not an array index
        object["__proto__"] = .null  // ordinary key
        #expect(object.keys == ["2", "10", "b", "a", "01", "__proto__"])
        #expect(object.count == 6)
        #expect(object["b"] == .string("again"))
        #expect(object["c"] == nil)
        #expect(JSONValue.object(object).canonicalString == #"{"2":4,"10":3,"b":"again","a":2,"01":true,"__proto__":null}"#)

        object["b"] = nil  // delete
        object["b"] = .number(5)  // re-added at the end
        object["2"] = nil
        #expect(object.keys == ["10", "a", "01", "__proto__", "b"])
        object["missing"] = nil
        #expect(object.count == 5)

        let pairs = object.map { "\($0.key)=\($0.value.canonicalString)" }
        #expect(pairs == ["10=3", "a=2", "01=true", "__proto__=null", "b=5"])

        // init(_:) applies the same semantics as assignment in order.
        let built = JSONObject([("x", .number(1)), ("5", .null), ("x", .number(2)), ("4294967295", .null), ("3", .null)])
        #expect(built.keys == ["3", "5", "x", "4294967295"])
        #expect(built["x"] == .number(2))

        // Keys are compared by code units, not canonical equivalence.
        var unicode = JSONObject()
        unicode["é"] = .number(1)
        unicode["e\u{301}"] = .number(2)
        #expect(unicode.count == 2)
        #expect(unicode["é"] == .number(1))
        #expect(unicode["e\u{301}"] == .number(2))
    }

    @Test("large objects keep JavaScript order through the indexed path")
    func largeObject() {
        var object = JSONObject()
        var expectedIndices: [Int] = []
        var expectedNames: [String] = []
        for i in stride(from: 60, through: 0, by: -3) {
            object["\(i)"] = .number(Double(i))
            expectedIndices.append(i)
            object["k\(i)"] = .number(Double(i))
            expectedNames.append("k\(i)")
        }
        object["k30"] = .string("updated")
        object["30"] = .string("updated")
        object["k0"] = nil
        object["0"] = nil
        expectedNames.removeAll { $0 == "k0" }
        expectedIndices.removeAll { $0 == 0 }
        object["k0"] = .null
        expectedNames.append("k0")
        #expect(object.keys == expectedIndices.sorted().map { "\($0)" } + expectedNames)
        #expect(object["k30"] == .string("updated"))
        #expect(object["30"] == .string("updated"))
        #expect(object["k33"] == .number(33))
        #expect(object["33"] == .number(33))
        #expect(object["0"] == nil)
        #expect(object["1"] == nil)

        let pairs = object.map { ($0.key, $0.value) }
        #expect(JSONObject(pairs) == object)
        #expect(JSONValue.object(JSONObject(pairs.reversed())) != JSONValue.object(object))
    }

    @Test("equality is exact: key order and string bytes matter")
    func equality() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) != JSONValue.parse(#"{"b":2,"a":1}"#))
        #expect(try JSONValue.parse(#"{"2":1,"1":2}"#) == JSONValue.parse(#"{"1":2,"2":1}"#))
        #expect(JSONValue.string("é") != JSONValue.string("e\u{301}"))  // Swift's String == says equal
        #expect(JSONValue.string("é").hashValue == JSONValue.string("\u{e9}").hashValue)
        #expect(JSONValue.number(0) == JSONValue.number(-0.0))
        #expect(JSONValue.number(0).hashValue == JSONValue.number(-0.0).hashValue)
        #expect(JSONValue.number(.nan).canonicalString == "null")
        #expect(JSONValue.number(-.infinity).canonicalString == "null")
        let set: Set<JSONValue> = [.string("é"), .string("e\u{301}"), .number(0), .number(-0.0)]
        #expect(set.count == 3)
    }

    @Test("number formatting corner cases")
    func numbers() {
        let cases: [(Double, String)] = [
            (1250, "1250"), (-0.0, "0"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
            (1e-7, "1e-7"), (1e-6, "0.000001"), (1.23e-18, "1.23e-18"),
            (12345678901234567168, "12345678901234567000"), (.leastNonzeroMagnitude, "5e-324"),
            (.greatestFiniteMagnitude, "1.7976931348623157e+308"), (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"), (123.456, "123.456"), (1e-5, "0.00001"),
            (-9007199254740991, "-9007199254740991"), (9007199254740992, "9007199254740992"),
            (2.5e-7, "2.5e-7"), (123456789012.5, "123456789012.5"), (1.5e300, "1.5e+300"),
        ]
        for (d, expected) in cases {
            #expect(JSONValue.number(d).canonicalString == expected, "\(d)")
        }
    }

    @Test(
        "cross-check against node: corpus plus random documents",
        .enabled(if: canonicalJSONNodePath != nil, "node is not on PATH"))
    func crossCheckWithNode() throws {
        var documents = CanonicalJSONFixtures.corpus.map(\.0)
        // CANONICAL_JSON_RANDOM_DOCS / CANONICAL_JSON_SEED allow longer fuzzing runs locally.
        let environment = ProcessInfo.processInfo.environment
        let count = environment["CANONICAL_JSON_RANDOM_DOCS"].flatMap { Int($0) } ?? 400
        let seed = environment["CANONICAL_JSON_SEED"].flatMap { UInt64($0) } ?? 0x486F_6F6B_6C69_6E65
        var generator = CanonicalJSONRandomDocuments(seed: seed)
        for _ in 0..<count { documents.append(generator.document()) }

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hookline-canonical-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputURL = directory.appendingPathComponent("in.txt")
        let outputURL = directory.appendingPathComponent("out.txt")
        let lines = documents.map { Data($0.utf8).base64EncodedString() }.joined(separator: "\n")
        try Data(lines.utf8).write(to: inputURL)

        let script = """
            const fs = require('fs');
            const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
            const out = fs.readFileSync(process.argv[1], 'utf8').split('\\n').map((line) => {
              try {
                const v = JSON.parse(Buffer.from(line, 'base64').toString('utf8'));
                return b64(JSON.stringify(v)) + ' ' + b64(JSON.stringify(v, null, 2));
              } catch (e) {
                return '! ' + b64(String(e.message));
              }
            });
            fs.writeFileSync(process.argv[2], out.join('\\n'));
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: canonicalJSONNodePath!)
        process.arguments = ["-e", script, inputURL.path, outputURL.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)

        let results = try String(contentsOf: outputURL, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        try #require(results.count == documents.count)

        var failures: [String] = []
        var checked = 0
        for (document, result) in zip(documents, results) {
            let parts = result.split(separator: " ")
            let decoded = parts.dropFirst().map { Data(base64Encoded: String($0)).map { Array($0) } ?? [] }
            if parts.first == "!" {
                failures.append("node rejected \(document.debugDescription): \(String(decoding: decoded[0], as: UTF8.self))")
                continue
            }
            let nodeCompact = Data(base64Encoded: String(parts[0])).map { Array($0) } ?? []
            let nodePretty = decoded.first ?? []
            do {
                let value = try JSONValue.parse(document)
                if value.canonicalBytes != nodeCompact {
                    failures.append("""
                        compact mismatch for \(document.debugDescription)
                          node:  \(String(decoding: nodeCompact, as: UTF8.self).debugDescription)
                          swift: \(value.canonicalString.debugDescription)
                        """)
                }
                if Array(value.prettyString.utf8) != nodePretty {
                    failures.append("pretty mismatch for \(document.debugDescription)")
                }
                checked += 1
            } catch {
                failures.append("rejected \(document.debugDescription): \(error)")
            }
        }
        #expect(checked == documents.count)
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5).joined(separator: "\n"))")
    }
}
