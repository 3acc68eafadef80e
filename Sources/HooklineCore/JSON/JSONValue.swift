// JSONValue.swift
// A JSON value model that reproduces JavaScript's JSON.parse / JSON.stringify
// semantics byte for byte (see JSONParser.swift and JSONNumberFormatter.swift).

/// A parsed JSON value with JavaScript's object semantics.
///
/// Equality and hashing are exact: strings (and object keys) compare by their
/// UTF-8 bytes, not by Unicode canonical equivalence as `Swift.String` does,
/// and objects compare in property order. For parsed values, two values are
/// equal exactly when their `canonicalBytes` are equal (numbers compare as
/// `Double`: `0` and `-0` are equal and both print as `0`).
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    // Equality and hashing walk the tree with an explicit work list, so deep
    // nesting costs heap, not stack.

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        var work: [(JSONValue, JSONValue)] = []
        var a = lhs
        var b = rhs
        while true {
            switch (a, b) {
            case (.null, .null):
                break
            case let (.bool(x), .bool(y)):
                guard x == y else { return false }
            case let (.number(x), .number(y)):
                guard x == y || (x.isNaN && y.isNaN) else { return false }
            case let (.string(x), .string(y)):
                guard JSONKey.bytesEqual(x, y) else { return false }
            case let (.array(x), .array(y)):
                guard x.count == y.count else { return false }
                for i in x.indices.reversed() { work.append((x[i], y[i])) }
            case let (.object(x), .object(y)):
                guard x._keys.count == y._keys.count else { return false }
                for i in x._keys.indices where !JSONKey.bytesEqual(x._keys[i], y._keys[i]) { return false }
                for i in x._values.indices.reversed() { work.append((x._values[i], y._values[i])) }
            default:
                return false
            }
            guard let next = work.popLast() else { return true }
            (a, b) = next
        }
    }

    public func hash(into hasher: inout Hasher) {
        var work: [JSONValue] = []
        var value = self
        while true {
            switch value {
            case .null:
                hasher.combine(0 as UInt8)
            case .bool(let b):
                hasher.combine(1 as UInt8)
                hasher.combine(b)
            case .number(let d):
                hasher.combine(2 as UInt8)
                if d.isNaN {
                    hasher.combine(UInt64.max)
                } else {
                    hasher.combine(d)  // Double hashes 0 and -0 alike
                }
            case .string(let s):
                hasher.combine(3 as UInt8)
                JSONKey.hashBytes(s, into: &hasher)
            case .array(let a):
                hasher.combine(4 as UInt8)
                hasher.combine(a.count)
                work.append(contentsOf: a.reversed())
            case .object(let o):
                hasher.combine(5 as UInt8)
                hasher.combine(o._keys.count)
                for k in o._keys { JSONKey.hashBytes(k, into: &hasher) }
                work.append(contentsOf: o._values.reversed())
            }
            guard let next = work.popLast() else { return }
            value = next
        }
    }
}

// MARK: - Accessors

extension JSONValue {
    /// "object", "array", "string", "number", "boolean" or "null".
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The member named `key`; nil unless this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Value at a dotted path of object keys, e.g. "case.customer.id"; nil when absent.
    ///
    /// Every segment is an object key (arrays are not indexed). The path is split
    /// on every "." so empty segments look up the key "".
    public func value(atPath path: String) -> JSONValue? {
        var current = self
        for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let o) = current, let next = o[String(segment)] else { return nil }
            current = next
        }
        return current
    }
}

// MARK: - Serialization

extension JSONValue {
    /// The canonical bytes: equal to JSON.stringify(JSON.parse(text)).
    ///
    /// NaN and infinities (which `parse` never produces) are written as `null`,
    /// like JSON.stringify does.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        JSONWriter.writeCompact(self, into: &out)
        return out
    }

    public var canonicalString: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// Pretty form for humans (2-space indent like JSON.stringify(v, null, 2)).
    public var prettyString: String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        JSONWriter.writePretty(self, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

enum JSONWriter {
    /// An open array or object (for arrays `keys` is empty).
    private struct Frame {
        let isObject: Bool
        let keys: [String]
        let values: [JSONValue]
        var index = 0
    }

    static func writeCompact(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, pretty: false, into: &out)
    }

    static func writePretty(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, pretty: true, into: &out)
    }

    /// Iterative (explicit stack), so nesting depth costs heap, not stack.
    private static func write(_ root: JSONValue, pretty: Bool, into out: inout [UInt8]) {
        var stack: [Frame] = []
        var current = root
        next: while true {
            switch current {
            case .null:
                out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
            case .bool(let b):
                if b {
                    out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
                } else {
                    out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
                }
            case .number(let d):
                JSONNumberFormatter.append(d, to: &out)
            case .string(let s):
                writeString(s, into: &out)
            case .array(let a):
                if a.isEmpty {
                    out.append(contentsOf: [UInt8(ascii: "["), UInt8(ascii: "]")])
                } else {
                    out.append(UInt8(ascii: "["))
                    stack.append(Frame(isObject: false, keys: [], values: a))
                }
            case .object(let o):
                if o._keys.isEmpty {
                    out.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
                } else {
                    out.append(UInt8(ascii: "{"))
                    stack.append(Frame(isObject: true, keys: o._keys, values: o._values))
                }
            }
            // Move to the next value, closing finished containers.
            while !stack.isEmpty {
                let top = stack.count - 1
                let i = stack[top].index
                if i == stack[top].values.count {
                    if pretty { newline(indent: top, into: &out) }
                    out.append(stack[top].isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                    stack.removeLast()
                    continue
                }
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent: top + 1, into: &out) }
                if stack[top].isObject {
                    writeString(stack[top].keys[i], into: &out)
                    out.append(UInt8(ascii: ":"))
                    if pretty { out.append(UInt8(ascii: " ")) }
                }
                current = stack[top].values[i]
                stack[top].index = i + 1
                continue next
            }
            return
        }
    }

    @inline(__always)
    private static func newline(indent: Int, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes a JSON string literal exactly as JSON.stringify does for a
    /// well-formed string (Swift strings cannot hold lone surrogates).
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { buf in
            writeEscaped(buf, into: &out)
        }
        if done == nil {
            let bytes = Array(s.utf8)
            bytes.withUnsafeBufferPointer { writeEscaped($0, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ buf: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var runStart = 0
        var i = 0
        let n = buf.count
        while i < n {
            let b = buf[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                i += 1
                continue
            }
            if runStart < i {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<i]))
            }
            out.append(UInt8(ascii: "\\"))
            switch b {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0xF)])
            }
            i += 1
            runStart = i
        }
        if runStart < n {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<n]))
        }
    }
}

// MARK: - JSONObject

/// An ordered JSON object with JavaScript property order.
///
/// Keys that are array indices (canonical decimal strings of 0 ... 2^32-2)
/// come first in ascending numeric order, then the other keys in insertion
/// order. Assigning an existing key replaces its value and keeps its position.
/// Keys compare by their UTF-8 bytes (like JavaScript's code-unit comparison),
/// not by Unicode canonical equivalence. `__proto__` is an ordinary key.
public struct JSONObject: Sendable, Hashable, Sequence {
    /// Keys in JavaScript property order.
    var _keys: [String]
    /// Values parallel to `_keys`.
    var _values: [JSONValue]
    /// Numeric values of the leading array-index keys (`_keys[0..<_indexKeys.count]`).
    var _indexKeys: [UInt32]
    /// Key → position; only maintained when `count > JSONObject.indexThreshold`.
    var _lookup: [JSONKey: Int]

    /// Objects up to this size are searched linearly.
    static let indexThreshold = 16

    public init() {
        _keys = []
        _values = []
        _indexKeys = []
        _lookup = [:]
    }

    /// Builds an object as if the pairs were assigned in order in JavaScript
    /// (or appeared in this order in JSON text).
    public init(_ pairs: [(String, JSONValue)]) {
        self.init(keys: pairs.lazy.map(\.0), values: pairs.lazy.map(\.1), count: pairs.count)
    }

    /// Batch construction with JS duplicate and ordering semantics (used by the parser).
    init(keys: ArraySlice<String>, values: ArraySlice<JSONValue>) {
        let n = keys.count
        if n <= JSONObject.indexThreshold {
            // Common case: no array-index keys and no duplicates, already in order.
            var plain = true
            var i = keys.startIndex
            check: while i < keys.endIndex {
                let k = keys[i]
                if JSONObject.arrayIndex(k) != nil {
                    plain = false
                    break
                }
                var j = keys.startIndex
                while j < i {
                    if JSONKey.bytesEqual(keys[j], k) {
                        plain = false
                        break check
                    }
                    j += 1
                }
                i += 1
            }
            if plain {
                self.init()
                _keys = Array(keys)
                _values = Array(values)
                return
            }
        }
        self.init(keys: keys, values: values, count: n)
    }

    init<K: Sequence<String>, V: Sequence<JSONValue>>(keys: K, values: V, count n: Int) {
        self.init()
        if n <= JSONObject.indexThreshold {
            _keys.reserveCapacity(n)
            _values.reserveCapacity(n)
            for (k, v) in zip(keys, values) { assign(k, v) }
            return
        }
        // Large objects: dedupe with a hash table, then order once.
        var slots: [JSONKey: Int] = [:]
        slots.reserveCapacity(n)
        var dKeys: [String] = []
        var dValues: [JSONValue] = []
        var dIndex: [UInt32?] = []
        dKeys.reserveCapacity(n)
        dValues.reserveCapacity(n)
        dIndex.reserveCapacity(n)
        for (k, v) in zip(keys, values) {
            let jk = JSONKey(k)
            if let slot = slots[jk] {
                dValues[slot] = v
            } else {
                slots[jk] = dKeys.count
                dKeys.append(k)
                dValues.append(v)
                dIndex.append(JSONObject.arrayIndex(k))
            }
        }
        var indexSlots: [Int] = []
        for i in 0..<dKeys.count where dIndex[i] != nil { indexSlots.append(i) }
        indexSlots.sort { dIndex[$0]! < dIndex[$1]! }
        _keys.reserveCapacity(dKeys.count)
        _values.reserveCapacity(dKeys.count)
        _indexKeys.reserveCapacity(indexSlots.count)
        for i in indexSlots {
            _keys.append(dKeys[i])
            _values.append(dValues[i])
            _indexKeys.append(dIndex[i]!)
        }
        for i in 0..<dKeys.count where dIndex[i] == nil {
            _keys.append(dKeys[i])
            _values.append(dValues[i])
        }
        rebuildLookup()
    }

    /// Keys in JavaScript property order.
    public var keys: [String] { _keys }

    /// Values in JavaScript property order.
    public var values: [JSONValue] { _values }

    public var count: Int { _keys.count }

    public var isEmpty: Bool { _keys.isEmpty }

    /// get: the value for `key`, nil when absent.
    /// set: JavaScript assignment (an existing key keeps its position; a new
    /// array-index key goes into numeric order, other new keys go last);
    /// setting nil removes the key like `delete`.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let p = position(of: key) else { return nil }
            return _values[p]
        }
        set {
            if let newValue {
                assign(key, newValue)
            } else {
                remove(key)
            }
        }
    }

    // MARK: Sequence

    public struct Iterator: IteratorProtocol {
        let keys: [String]
        let values: [JSONValue]
        var i = 0

        public mutating func next() -> (key: String, value: JSONValue)? {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (key: keys[i], value: values[i])
        }
    }

    public func makeIterator() -> Iterator {
        Iterator(keys: _keys, values: _values)
    }

    public var underestimatedCount: Int { _keys.count }

    // MARK: Hashable (order-sensitive, byte-exact keys)

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs._keys.count == rhs._keys.count else { return false }
        for i in lhs._keys.indices where !JSONKey.bytesEqual(lhs._keys[i], rhs._keys[i]) {
            return false
        }
        return lhs._values == rhs._values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(_keys.count)
        for k in _keys { JSONKey.hashBytes(k, into: &hasher) }
        for v in _values { v.hash(into: &hasher) }
    }

    // MARK: Internals

    func position(of key: String) -> Int? {
        if _lookup.isEmpty {
            for i in 0..<_keys.count where JSONKey.bytesEqual(_keys[i], key) { return i }
            return nil
        }
        return _lookup[JSONKey(key)]
    }

    mutating func assign(_ key: String, _ value: JSONValue) {
        if let p = position(of: key) {
            _values[p] = value
            return
        }
        if let index = JSONObject.arrayIndex(key) {
            // Binary search for the insertion point among the index keys.
            var lo = 0
            var hi = _indexKeys.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if _indexKeys[mid] < index { lo = mid + 1 } else { hi = mid }
            }
            _indexKeys.insert(index, at: lo)
            _keys.insert(key, at: lo)
            _values.insert(value, at: lo)
            if lo == _keys.count - 1 && !_lookup.isEmpty {
                _lookup[JSONKey(key)] = lo
            } else {
                rebuildLookup()
            }
        } else {
            _keys.append(key)
            _values.append(value)
            if !_lookup.isEmpty {
                _lookup[JSONKey(key)] = _keys.count - 1
            } else if _keys.count > JSONObject.indexThreshold {
                rebuildLookup()
            }
        }
    }

    mutating func remove(_ key: String) {
        guard let p = position(of: key) else { return }
        _keys.remove(at: p)
        _values.remove(at: p)
        if p < _indexKeys.count { _indexKeys.remove(at: p) }
        rebuildLookup()
    }

    private mutating func rebuildLookup() {
        guard _keys.count > JSONObject.indexThreshold else {
            _lookup = [:]
            return
        }
        var lookup: [JSONKey: Int] = [:]
        lookup.reserveCapacity(_keys.count)
        for (i, k) in _keys.enumerated() { lookup[JSONKey(k)] = i }
        _lookup = lookup
    }

    /// The numeric value of `key` if it is an array index: the canonical
    /// decimal form of an integer in 0 ... 2^32-2.
    static func arrayIndex(_ key: String) -> UInt32? {
        let utf8 = key.utf8
        let n = utf8.count
        guard n >= 1 && n <= 10 else { return nil }
        var value: UInt64 = 0
        var first = true
        for b in utf8 {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            if first && b == 0x30 && n > 1 { return nil }
            first = false
            value = value * 10 + UInt64(b - 0x30)
        }
        guard value <= 4_294_967_294 else { return nil }
        return UInt32(value)
    }
}

// MARK: - Byte-exact string comparison

/// A dictionary key that compares strings by their UTF-8 bytes (JavaScript's
/// code-unit equality), unlike `String`'s Unicode canonical equivalence.
struct JSONKey: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: JSONKey, b: JSONKey) -> Bool { bytesEqual(a.string, b.string) }

    func hash(into hasher: inout Hasher) { JSONKey.hashBytes(string, into: &hasher) }

    /// Code-unit equality: "é" (U+00E9) and "e\u{301}" are different keys.
    @inline(__always)
    static func bytesEqual(_ a: String, _ b: String) -> Bool {
        let au = a.utf8
        let bu = b.utf8
        guard au.count == bu.count else { return false }
        let fast: Bool? = au.withContiguousStorageIfAvailable { pa in
            bu.withContiguousStorageIfAvailable { pb in
                guard let x = pa.baseAddress, let y = pb.baseAddress else { return true }
                if x == y { return true }
                for i in 0..<pa.count where x[i] != y[i] { return false }
                return true
            }
        } ?? nil
        if let fast { return fast }
        return au.elementsEqual(bu)
    }

    /// Hashes the UTF-8 bytes (consistent with `bytesEqual`).
    @inline(__always)
    static func hashBytes(_ s: String, into hasher: inout Hasher) {
        let u = s.utf8
        hasher.combine(u.count)
        let done: Void? = u.withContiguousStorageIfAvailable { buf in
            hasher.combine(bytes: UnsafeRawBufferPointer(buf))
        }
        if done == nil {
            Array(u).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
