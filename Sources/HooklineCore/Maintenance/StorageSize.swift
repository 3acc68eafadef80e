/// What one step of giving space back did.
public struct ReclaimStep: Sendable, Hashable {
    public var freedBytes: Int64
    /// Free space still inside the file.
    public var remainingBytes: Int64

    public init(freedBytes: Int64, remainingBytes: Int64) {
        self.freedBytes = freedBytes
        self.remainingBytes = remainingBytes
    }
}

/// How much room the data takes.
public struct StorageSize: Sendable, Hashable {
    /// The database's size: every page, used or free.
    public var bytes: Int64
    /// Free pages inside it, reused by new rows before the file grows.
    public var reusableBytes: Int64

    public init(bytes: Int64, reusableBytes: Int64) {
        self.bytes = bytes
        self.reusableBytes = reusableBytes
    }

    /// `12.3 MB`, `845 kB`, `512 B` (decimal units, as `ls -lh --si` and disk tools show).
    public static func format(_ bytes: Int64) -> String {
        let value = Double(bytes)
        if bytes < 1000 { return "\(bytes) B" }
        for (unit, scale) in [("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12)] where value < scale * 1000 {
            let scaled = value / scale
            return scaled < 10 ? String(format: "%.1f %@", scaled, unit) : "\(Int(scaled.rounded())) \(unit)"
        }
        return "\(Int((value / 1e15).rounded())) PB"
    }
}
