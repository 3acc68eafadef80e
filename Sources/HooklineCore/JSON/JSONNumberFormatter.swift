// JSONNumberFormatter.swift
// ECMAScript Number::toString(x) for finite doubles, as used by JSON.stringify.

enum JSONNumberFormatter {
    /// Appends the JSON.stringify form of `d` (NaN and infinities become `null`).
    static func append(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
            return
        }
        if d == 0 {  // also -0
            out.append(UInt8(ascii: "0"))
            return
        }
        // Fast path: integers below 2^53 print as their exact decimal digits,
        // which are also the shortest round-trip digits.
        if d.magnitude < 9_007_199_254_740_992.0 {
            let integer = Int64(d)  // truncates; no libm needed
            if Double(integer) == d {
                appendInteger(integer, to: &out)
                return
            }
        }

        // Shortest round-trip digits from Swift's description, then the
        // ECMAScript layout. Value = 0.DIGITS × 10^n.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 24 digit bytes
        var k = 0
        var n = 0
        var negative = false
        withUnsafeMutableBytes(of: &digits) { raw in
            let buf = raw.bindMemory(to: UInt8.self)
            var seenPoint = false
            var pointPos = 0
            var exponent = 0
            var exponentNegative = false
            var inExponent = false
            var leadingZeros = 0
            var countedDigits = 0  // digits before the point, including leading zeros
            for c in d.description.utf8 {
                switch c {
                case UInt8(ascii: "-"):
                    if inExponent { exponentNegative = true } else { negative = true }
                case UInt8(ascii: "+"):
                    break
                case UInt8(ascii: "."):
                    seenPoint = true
                    pointPos = countedDigits
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    inExponent = true
                    if !seenPoint { seenPoint = true; pointPos = countedDigits }
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if inExponent {
                        exponent = exponent * 10 + Int(c - 0x30)
                    } else {
                        countedDigits += 1
                        if k == 0 && c == UInt8(ascii: "0") {
                            leadingZeros += 1
                        } else if k < buf.count {
                            buf[k] = c
                            k += 1
                        }
                    }
                default:
                    break
                }
            }
            if !seenPoint { pointPos = countedDigits }
            if exponentNegative { exponent = -exponent }
            // Trailing zeros carry no information.
            while k > 1 && buf[k - 1] == UInt8(ascii: "0") { k -= 1 }
            n = pointPos - leadingZeros + exponent
        }
        if negative { out.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { raw in
            let s = raw.bindMemory(to: UInt8.self)
            layout(digits: UnsafeBufferPointer(rebasing: s[0..<k]), n: n, into: &out)
        }
    }

    /// ECMAScript Number::toString steps for digits d1...dk and exponent n
    /// (value = 0.d1...dk × 10^n).
    static func layout(digits: UnsafeBufferPointer<UInt8>, n: Int, into out: inout [UInt8]) {
        let k = digits.count
        if k <= n && n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[0..<n]))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[n...]))
        } else if -6 < n && n <= 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[1...]))
            }
            out.append(UInt8(ascii: "e"))
            let e = n - 1
            out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            appendInteger(Int64(abs(e)), to: &out)
        }
    }

    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        var v = value
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            v = -v  // |value| < 2^53 here, no overflow
        }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let buf = raw.bindMemory(to: UInt8.self)
            var i = buf.count
            repeat {
                i -= 1
                buf[i] = UInt8(truncatingIfNeeded: v % 10) + 0x30
                v /= 10
            } while v > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i...]))
        }
    }
}
