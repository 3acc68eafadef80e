import Foundation
import Synchronization

/// Hookline's ids: a kind prefix (`evt_`, `ep_`, `dlv_`) and a ULID.
///
/// A ULID is 26 Crockford base32 characters: 48 bits of milliseconds since the epoch, then 80 random
/// bits. Ids made within the same millisecond by one process increase monotonically, so that sorting
/// ids sorts by creation time.
public enum Identifier {
    /// The prefix of an event id, as in the guide (`evt_01H…`).
    public static let eventPrefix = "evt_"
    /// The prefix of an endpoint id.
    public static let endpointPrefix = "ep_"
    /// The prefix of a delivery id.
    public static let deliveryPrefix = "dlv_"

    /// A new event id.
    public static func event(at date: Date = Date()) -> String { eventPrefix + ulid(at: date) }
    /// A new endpoint id.
    public static func endpoint(at date: Date = Date()) -> String { endpointPrefix + ulid(at: date) }
    /// A new delivery id.
    public static func delivery(at date: Date = Date()) -> String { deliveryPrefix + ulid(at: date) }

    static let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    private struct State {
        var lastMillis: UInt64 = 0
        var lastRandom: (hi: UInt16, lo: UInt64) = (0, 0)
    }
    private static let state = Mutex(State())

    /// A new ULID for the given time, monotonic within this process.
    public static func ulid(at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        let (time, random) = state.withLock { state -> (UInt64, (UInt16, UInt64)) in
            if millis <= state.lastMillis {
                // Same (or earlier) millisecond: keep the last time and add one to the random part.
                var (hi, lo) = state.lastRandom
                let (next, overflow) = lo.addingReportingOverflow(1)
                lo = next
                if overflow { hi &+= 1 }
                state.lastRandom = (hi, lo)
                return (state.lastMillis, (hi, lo))
            }
            var generator = SystemRandomNumberGenerator()
            let fresh = (UInt16.random(in: 0...UInt16.max, using: &generator),
                         UInt64.random(in: 0...UInt64.max, using: &generator))
            state.lastMillis = millis
            state.lastRandom = fresh
            return (millis, fresh)
        }
        return encode(time: time, randomHigh: random.0, randomLow: random.1)
    }

    static func encode(time: UInt64, randomHigh: UInt16, randomLow: UInt64) -> String {
        var out = [UInt8](repeating: 0, count: 26)
        var t = time
        for i in stride(from: 9, through: 0, by: -1) {
            out[i] = crockford[Int(t & 31)]
            t >>= 5
        }
        // 80 random bits: 16 high bits then 64 low bits, written as 16 characters of 5 bits.
        var lo = randomLow
        var hi = UInt64(randomHigh)
        for i in stride(from: 25, through: 10, by: -1) {
            out[i] = crockford[Int(lo & 31)]
            lo = (lo >> 5) | ((hi & 31) << 59)
            hi >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is a well-formed ULID (26 Crockford base32 characters, first one at most `7`).
    public static func isULID(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 26, bytes[0] <= UInt8(ascii: "7") else { return false }
        return bytes.allSatisfy { crockford.contains($0) }
    }

    /// Checks an id supplied by a user: the right prefix, then 1 to 100 letters, digits, `_` or `-`.
    ///
    /// Ids made by Hookline are ULIDs; producers may bring their own (the guide's `evt_test_123`).
    public static func validate(_ id: String, prefix: String, kind: String) throws(HooklineError) {
        let body = id.utf8.dropFirst(prefix.utf8.count)
        let allowed = { (c: UInt8) -> Bool in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
        }
        guard id.hasPrefix(prefix), !body.isEmpty, body.count <= 100, body.allSatisfy(allowed) else {
            throw .invalidInput(
                "'\(Identifier.printable(id))' is not a valid \(kind) id; it must be '\(prefix)' followed by 1 to 100 letters, digits, '_' or '-'.")
        }
    }

    /// The first `count` Crockford base32 characters of `bytes` (5 bits each, most significant first).
    static func crockfordBase32(_ bytes: [UInt8], count: Int) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes where out.count < count {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 && out.count < count {
                bits -= 5
                out.append(crockford[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A short, printable rendering of untrusted text for error messages.
    package static func printable(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return cleaned.count > 60 ? String(cleaned.prefix(60)) + "…" : cleaned
    }
}
