import Foundation
@testable import HooklineCore
import Testing

@Suite struct TokenBucketTests {
    let t0 = Date(timeIntervalSince1970: 1_764_000_000)

    func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    @Test func aBurstUpToCapacityIsAllowedAtOnce() {
        var bucket = TokenBucket(rate: 2, burst: 5, now: t0)
        #expect(bucket.tokens == 5)
        for _ in 0..<5 {
            #expect(bucket.take(now: t0) == nil)
        }
        #expect(bucket.tokens == 0)
        // Empty: one token at 2/s is half a second away.
        #expect(bucket.take(now: t0) == 0.5)
        // Asking again does not consume anything or lengthen the wait.
        #expect(bucket.take(now: t0) == 0.5)
        #expect(bucket.tokens == 0)
    }

    @Test func theWaitIsTheDeficitOverTheRate() {
        var bucket = TokenBucket(rate: 4, burst: 1, now: t0)
        #expect(bucket.take(now: t0) == nil)
        // A quarter token has come back after 1/16 s: 3/4 token missing at 4/s is 3/16 s.
        #expect(bucket.take(now: at(0.0625)) == 0.1875)
        #expect(bucket.take(now: at(0.25)) == nil)
    }

    @Test func tokensRefillOverTimeUpToTheBurst() {
        var bucket = TokenBucket(rate: 2, burst: 4, now: t0)
        for _ in 0..<4 { #expect(bucket.take(now: t0) == nil) }
        #expect(bucket.take(now: t0) != nil)

        // One second at 2/s gives two tokens back, not more.
        #expect(bucket.take(now: at(1)) == nil)
        #expect(bucket.take(now: at(1)) == nil)
        #expect(bucket.take(now: at(1)) == 0.5)

        // A long idle period fills the bucket only up to the burst.
        #expect(bucket.take(now: at(1000)) == nil)
        #expect(bucket.tokens == 3)
        for _ in 0..<3 { #expect(bucket.take(now: at(1000)) == nil) }
        #expect(bucket.take(now: at(1000)) == 0.5)
    }

    @Test func fractionalRates() {
        // Half a delivery per second: the bucket holds one token, the next comes two seconds later.
        var bucket = TokenBucket(rate: 0.5, now: t0)
        #expect(bucket.burst == 1)
        #expect(bucket.take(now: t0) == nil)
        #expect(bucket.take(now: t0) == 2)
        #expect(bucket.take(now: at(1)) == 1)
        #expect(bucket.take(now: at(1.5)) == 0.5)
        #expect(bucket.take(now: at(2)) == nil)
        #expect(bucket.take(now: at(2)) == 2)
        // Ten seconds idle still leaves only one token.
        #expect(bucket.take(now: at(12)) == nil)
        #expect(bucket.take(now: at(12)) == 2)
    }

    @Test func burstDefaultsToOneSecondsWorth() {
        #expect(TokenBucket(rate: 10, now: t0).burst == 10)
        #expect(TokenBucket(rate: 0.25, now: t0).burst == 1)
        #expect(TokenBucket(rate: 10, burst: 0, now: t0).burst == 1)
        var bucket = TokenBucket(rate: 10, now: t0)
        for _ in 0..<10 { #expect(bucket.take(now: t0) == nil) }
        #expect(bucket.take(now: t0) == 0.1)
    }

    @Test func aClockGoingBackwardsAddsNothing() {
        var bucket = TokenBucket(rate: 1, burst: 1, now: t0)
        #expect(bucket.take(now: t0) == nil)
        #expect(bucket.take(now: at(-10)) == 1)
        #expect(bucket.tokens == 0)
    }
}
