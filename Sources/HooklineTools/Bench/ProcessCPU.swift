import Foundation

/// CPU time this process has used (user and system, all threads), from `getrusage`: the cost of a
/// piece of work on a shared machine, where wall-clock rates move with the neighbours' load.
public enum ProcessCPU {
    /// Seconds of CPU used so far.
    public static var seconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// Runs `work` and returns its result with the CPU seconds the process used meanwhile.
    public static func measure<T>(_ work: () async throws -> T) async rethrows -> (T, Double) {
        let start = seconds
        let result = try await work()
        return (result, seconds - start)
    }
}
