import Foundation

/// A token bucket: `rate` tokens a second, holding at most `burst`.
public struct TokenBucket: Sendable, Hashable {
    public var rate: Double
    public var burst: Double
    public private(set) var tokens: Double
    public private(set) var updatedAt: Date

    /// A full bucket; `burst` defaults to one second's worth (at least one token).
    public init(rate: Double, burst: Double? = nil, now: Date) {
        self.rate = rate
        self.burst = max(1, burst ?? rate)
        self.tokens = self.burst
        self.updatedAt = now
    }

    /// A bucket as stored: `tokens` left at `updatedAt` (a bucket shared through the database).
    public init(rate: Double, burst: Double? = nil, tokens: Double, updatedAt: Date) {
        self.rate = rate
        self.burst = max(1, burst ?? rate)
        self.tokens = min(self.burst, max(0, tokens))
        self.updatedAt = updatedAt
    }

    /// Takes as many whole tokens as there are, up to `count`; returns how many it took.
    public mutating func take(upTo count: Int, now: Date) -> Int {
        refill(now: now)
        let taken = min(count, Int(tokens.rounded(.down)))
        guard taken > 0 else { return 0 }
        tokens -= Double(taken)
        return taken
    }

    /// Takes a token and returns nil, or returns how long to wait until one is there.
    public mutating func take(now: Date) -> TimeInterval? {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return (1 - tokens) / rate
    }

    /// Whether the bucket holds its whole burst again at `now` (it remembers nothing then).
    public func isFull(at now: Date) -> Bool {
        tokens + max(0, now.timeIntervalSince(updatedAt)) * rate >= burst
    }

    private mutating func refill(now: Date) {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        tokens = min(burst, tokens + elapsed * rate)
        // A clock that steps back must not credit the same interval twice.
        updatedAt = max(updatedAt, now)
    }
}
