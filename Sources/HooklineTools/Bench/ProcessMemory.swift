import Foundation
import HooklineCore

/// Resident memory of this process, from /proc/self/status (Linux).
public enum ProcessMemory {
    /// Current resident set size in bytes (`VmRSS`).
    public static var resident: Int? { field("VmRSS:") }
    /// Peak resident set size in bytes (`VmHWM`).
    public static var peakResident: Int? { field("VmHWM:") }

    static func field(_ name: String, path: String = "/proc/self/status") -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let kilobytes = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}

/// Percentiles of a sample.
public enum Percentile {
    /// The `p`-th percentile (0–100) by nearest rank.
    public static func of(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }
}
