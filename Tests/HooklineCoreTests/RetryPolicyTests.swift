import Foundation
@testable import HooklineCore
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy()

    // MARK: Schedule

    @Test func defaultScheduleIsTheGuidesEightAttempts() {
        let expected: [TimeInterval] = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000]
        #expect(RetryPolicy.defaultSchedule == expected)
        #expect(policy.schedule == RetryPolicy.defaultSchedule)
        #expect(policy.maximumAttempts == 8)
        #expect(policy.jitter == 0.2)
        #expect(policy.retryAfterCap == 3600)
        #expect(policy.throttleFloor == 60)
        // About 27.5 hours in all.
        let total = RetryPolicy.defaultSchedule.reduce(0, +)
        #expect(total == 99_305)
        #expect(abs(total / 3600 - 27.5) < 0.1)
    }

    @Test(arguments: 1...7)
    func delayAfterAttemptNUsesScheduleEntryN(_ attempt: Int) throws {
        let delay = try #require(policy.delay(afterAttempt: attempt, retryAfter: nil, throttled: false, random: 0.5))
        #expect(delay == RetryPolicy.defaultSchedule[attempt])
    }

    @Test func delayAfterTheFirstAttemptIsFiveSeconds() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, throttled: false, random: 0.5) == 5)
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil, throttled: false, random: 0.5) == 300)
        #expect(policy.delay(afterAttempt: 7, retryAfter: nil, throttled: false, random: 0.5) == 36_000)
    }

    // MARK: Jitter

    @Test(arguments: 1...7)
    func jitterStaysWithinTwentyPercent(_ attempt: Int) throws {
        let base = RetryPolicy.defaultSchedule[attempt]
        let low = try #require(policy.delay(afterAttempt: attempt, retryAfter: nil, throttled: false, random: 0))
        let high = try #require(policy.delay(afterAttempt: attempt, retryAfter: nil, throttled: false, random: 1.0.nextDown))
        let middle = try #require(policy.delay(afterAttempt: attempt, retryAfter: nil, throttled: false, random: 0.5))
        #expect(abs(low - base * 0.8) < 1e-9)
        // random approaches 1: the delay approaches +20 % and never exceeds it.
        #expect(high <= base * 1.2)
        #expect(high > base * 1.2 - 1e-6)
        #expect(middle == base)
        for step in 0..<100 {
            let random = Double(step) / 100
            let delay = try #require(policy.delay(afterAttempt: attempt, retryAfter: nil, throttled: false, random: random))
            #expect(delay >= base * 0.8 - 1e-9 && delay < base * 1.2)
        }
    }

    @Test func zeroJitterIsExact() {
        let exact = RetryPolicy(jitter: 0)
        #expect(exact.delay(afterAttempt: 3, retryAfter: nil, throttled: false, random: 0) == 1800)
        #expect(exact.delay(afterAttempt: 3, retryAfter: nil, throttled: false, random: 0.999) == 1800)
    }

    // MARK: Exhaustion

    @Test func exhaustedAfterTheLastAttempt() {
        #expect(policy.delay(afterAttempt: 8, retryAfter: nil, throttled: false, random: 0.5) == nil)
        #expect(policy.delay(afterAttempt: 9, retryAfter: nil, throttled: false, random: 0.5) == nil)
        // Even a Retry-After or a throttle does not revive an exhausted schedule.
        #expect(policy.delay(afterAttempt: 8, retryAfter: 30, throttled: true, random: 0.5) == nil)
        let short = RetryPolicy(schedule: [0, 1])
        #expect(short.maximumAttempts == 2)
        #expect(short.delay(afterAttempt: 1, retryAfter: nil, throttled: false, random: 0.5) == 1)
        #expect(short.delay(afterAttempt: 2, retryAfter: nil, throttled: false, random: 0.5) == nil)
    }

    // MARK: Retry-After and the throttle floor

    @Test func retryAfterLengthensTheWait() {
        // 5 s on schedule, the receiver asks for 120 s.
        #expect(policy.delay(afterAttempt: 1, retryAfter: 120, throttled: false, random: 0.5) == 120)
        // A shorter Retry-After never shortens the schedule.
        #expect(policy.delay(afterAttempt: 3, retryAfter: 120, throttled: false, random: 0.5) == 1800)
        // A negative value (clock skew) counts as none.
        #expect(policy.delay(afterAttempt: 1, retryAfter: -50, throttled: false, random: 0.5) == 5)
    }

    @Test func retryAfterIsCappedAtOneHour() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: 86_400, throttled: false, random: 0.5) == 3600)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 3601, throttled: false, random: 0.5) == 3600)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 3599, throttled: false, random: 0.5) == 3599)
        // The cap does not shorten a longer scheduled wait.
        #expect(policy.delay(afterAttempt: 4, retryAfter: 86_400, throttled: false, random: 0.5) == 7200)
        let custom = RetryPolicy(retryAfterCap: 600)
        #expect(custom.delay(afterAttempt: 1, retryAfter: 86_400, throttled: false, random: 0.5) == 600)
    }

    @Test func throttledFailuresWaitAtLeastSixtySeconds() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, throttled: true, random: 0) == 60)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, throttled: true, random: 0.5) == 60)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, throttled: false, random: 0.5) == 5)
        // A Retry-After below the floor still waits the floor; above it, the Retry-After.
        #expect(policy.delay(afterAttempt: 1, retryAfter: 10, throttled: true, random: 0.5) == 60)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 90, throttled: true, random: 0.5) == 90)
        // Longer scheduled waits are untouched.
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil, throttled: true, random: 0.5) == 300)
        let custom = RetryPolicy(throttleFloor: 10)
        #expect(custom.delay(afterAttempt: 1, retryAfter: nil, throttled: true, random: 0.5) == 10)
    }

    // MARK: parseSchedule

    @Test func parsesTheDefaultScheduleText() throws {
        #expect(try RetryPolicy.parseSchedule("0s,5s,5m,30m,2h") == [0, 5, 300, 1800, 7200])
        #expect(try RetryPolicy.parseSchedule("0s,5s,5m,30m,2h,5h,10h,10h") == RetryPolicy.defaultSchedule)
    }

    @Test func parsesMillisecondsAndDays() throws {
        #expect(try RetryPolicy.parseSchedule("500ms,1d") == [0.5, 86_400])
        #expect(try RetryPolicy.parseSchedule(" 1s , 2m ") == [1, 120])
        #expect(try RetryPolicy.parseSchedule("1.5h") == [5400])
    }

    @Test(arguments: ["5x", "", "-1s", "5", "5s,", ",5s", "5s,,5m", "s", "1e3s", "five s"])
    func refusesMalformedSchedules(_ text: String) {
        #expect(throws: HooklineError.self) { try RetryPolicy.parseSchedule(text) }
        do {
            _ = try RetryPolicy.parseSchedule(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            guard case .invalidInput(let sentence) = error else {
                Issue.record("expected invalidInput, got \(error)")
                return
            }
            #expect(sentence.contains("0s,5s,5m,30m,2h"))
        }
    }

    @Test func refusesMoreThanFiftyDelays() throws {
        let fifty = Array(repeating: "1s", count: 50).joined(separator: ",")
        #expect(try RetryPolicy.parseSchedule(fifty).count == 50)
        #expect(throws: HooklineError.self) { try RetryPolicy.parseSchedule(fifty + ",1s") }
    }

    // MARK: Retry-After header values

    @Test func retryAfterDeltaSeconds() {
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        #expect(RetryPolicy.retryAfterSeconds("120", now: now) == 120)
        #expect(RetryPolicy.retryAfterSeconds(" 0 ", now: now) == 0)
    }

    @Test func retryAfterHTTPDate() throws {
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 seconds after the epoch.
        let date = Date(timeIntervalSince1970: 1_445_412_480)
        let now = date.addingTimeInterval(-90)
        let seconds = try #require(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT", now: now))
        #expect(seconds == 90)
        // The obsolete RFC 850 and asctime forms, which receivers must still be understood in.
        #expect(RetryPolicy.retryAfterSeconds("Wednesday, 21-Oct-15 07:28:00 GMT", now: now) == 90)
        #expect(RetryPolicy.retryAfterSeconds("Wed Oct 21 07:28:00 2015", now: now) == 90)
    }

    @Test func retryAfterInThePastIsZero() {
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        #expect(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == 0)
    }

    @Test(arguments: ["soon", "", "-5", "12abc", "Wed, 99 Foo 2015 07:28:00 GMT", "1.5"])
    func retryAfterGarbageIsNil(_ value: String) {
        #expect(RetryPolicy.retryAfterSeconds(value, now: Date(timeIntervalSince1970: 1_764_000_000)) == nil)
    }

    // MARK: DurationText

    @Test func durationTextParses() {
        #expect(DurationText.parse("0s") == 0)
        #expect(DurationText.parse("500ms") == 0.5)
        #expect(DurationText.parse("5s") == 5)
        #expect(DurationText.parse("5m") == 300)
        #expect(DurationText.parse("2h") == 7200)
        #expect(DurationText.parse("30d") == 2_592_000)
        #expect(DurationText.parse("0.5s") == 0.5)
        #expect(DurationText.parse("5") == nil)
        #expect(DurationText.parse("5x") == nil)
        #expect(DurationText.parse("-1s") == nil)
        #expect(DurationText.parse("") == nil)
        #expect(DurationText.parse("ms") == nil)
        #expect(DurationText.parse("5 s") == nil)
        #expect(DurationText.parse("٥s") == nil)  // non-ASCII digits
    }

    @Test func durationTextFormatsTheTwoLargestUnits() {
        #expect(DurationText.format(0.5) == "500ms")
        #expect(DurationText.format(0) == "0s")
        #expect(DurationText.format(1) == "1s")
        #expect(DurationText.format(30) == "30s")
        #expect(DurationText.format(60) == "1m")
        #expect(DurationText.format(90) == "1m30s")
        #expect(DurationText.format(3600) == "1h")
        #expect(DurationText.format(5400) == "1h30m")
        #expect(DurationText.format(3661) == "1h1m")
        #expect(DurationText.format(86_400) == "1d")
        #expect(DurationText.format(90_000) == "1d1h")
        #expect(DurationText.format(86_460) == "1d")
    }

    @Test func durationTextRoundTripsTheDefaultSchedule() {
        let texts = RetryPolicy.defaultSchedule.map(DurationText.format)
        #expect(texts == ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"])
        for (text, seconds) in zip(texts, RetryPolicy.defaultSchedule) {
            #expect(DurationText.parse(text) == seconds)
        }
    }
}
