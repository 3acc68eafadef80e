import Foundation
@testable import HooklineCore
import Testing

@Suite struct CircuitBreakerTests {
    let t0 = Date(timeIntervalSince1970: 1_764_000_000)
    let configuration = BreakerConfiguration()

    func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    /// A breaker that has just opened at `t0 + 4` after five failures one second apart.
    func openedBreaker() -> CircuitBreaker {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for second in 0..<5 {
            breaker.record(success: false, at: at(TimeInterval(second)), configuration: configuration)
        }
        return breaker
    }

    // MARK: Defaults

    @Test func defaultsMatchTheDesign() {
        #expect(configuration.consecutiveFailures == 5)
        #expect(configuration.windowMinimumAttempts == 20)
        #expect(configuration.windowFailureRatio == 0.5)
        #expect(configuration.window == 300)
        #expect(configuration.openInterval == 30)
        #expect(configuration.maximumOpenInterval == 600)
        let breaker = CircuitBreaker(endpointID: "ep_1")
        #expect(breaker.state == .closed)
        #expect(breaker.decision(now: t0, probeInFlight: false) == .send)
    }

    // MARK: Consecutive failures

    @Test func opensAfterFiveConsecutiveFailuresNotFour() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for second in 0..<4 {
            let transition = breaker.record(success: false, at: at(TimeInterval(second)), configuration: configuration)
            #expect(transition == nil)
            #expect(breaker.state == .closed)
        }
        #expect(breaker.consecutiveFailures == 4)
        #expect(breaker.decision(now: at(4), probeInFlight: false) == .send)

        let transition = breaker.record(success: false, at: at(4), configuration: configuration)
        #expect(transition == .opened)
        #expect(breaker.state == .open)
        #expect(breaker.consecutiveFailures == 5)
        #expect(breaker.openedAt == at(4))
        #expect(breaker.nextProbeAt == at(4 + 30))
        #expect(breaker.trips == 1)
        #expect(breaker.failingSince == at(0))
        #expect(breaker.updatedAt == at(4))
    }

    @Test func aSuccessResetsTheConsecutiveCount() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for second in 0..<4 {
            breaker.record(success: false, at: at(TimeInterval(second)), configuration: configuration)
        }
        #expect(breaker.record(success: true, at: at(4), configuration: configuration) == nil)
        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.failingSince == nil)
        for second in 5..<9 {
            #expect(breaker.record(success: false, at: at(TimeInterval(second)), configuration: configuration) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.consecutiveFailures == 4)
        #expect(breaker.failingSince == at(5))
        #expect(breaker.record(success: false, at: at(9), configuration: configuration) == .opened)
    }

    // MARK: Failure ratio over the window

    @Test func halfFailuresOverTwentyAttemptsOpensWithoutFiveInARow() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        // success, failure, success, failure, …: never two failures in a row.
        for index in 0..<19 {
            let transition = breaker.record(success: index % 2 == 1 ? false : true, at: at(TimeInterval(index)), configuration: configuration)
            #expect(transition == nil)
            #expect(breaker.state == .closed)
            #expect(breaker.consecutiveFailures <= 1)
        }
        #expect(breaker.windowAttempts == 19)
        #expect(breaker.windowFailures == 9)
        // The 20th attempt fails: 10 of 20 is 50 %.
        let transition = breaker.record(success: false, at: at(19), configuration: configuration)
        #expect(transition == .opened)
        #expect(breaker.state == .open)
        #expect(breaker.consecutiveFailures == 1)
        #expect(breaker.windowAttempts == 20)
        #expect(breaker.windowFailures == 10)
        #expect(breaker.nextProbeAt == at(19 + 30))
    }

    @Test func belowHalfOverTwentyAttemptsStaysClosed() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        // failure, success, failure, success, …, 20 attempts with 10 failures but the last a success,
        // then another success: 10 of 21 is under 50 %.
        for index in 0..<21 {
            let success = index % 2 == 1 || index == 20
            #expect(breaker.record(success: success, at: at(TimeInterval(index)), configuration: configuration) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.windowAttempts == 21)
        #expect(breaker.windowFailures == 10)
        // 11 of 22 is 50 % again: opens.
        #expect(breaker.record(success: false, at: at(21), configuration: configuration) == .opened)
    }

    @Test func fewerThanTwentyAttemptsNeverTripByRatio() {
        // Four failures then a success, over and over: 80 % failures but never five in a row.
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for index in 0..<19 {
            let success = index % 5 == 4
            #expect(breaker.record(success: success, at: at(TimeInterval(index)), configuration: configuration) == nil)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.windowAttempts == 19)
        #expect(breaker.windowFailures == 16)

        // With the consecutive rule out of the way, 19 failures out of 19 do not trip; the 20th does.
        let noConsecutive = BreakerConfiguration(consecutiveFailures: 1000)
        var other = CircuitBreaker(endpointID: "ep_2")
        for index in 0..<19 {
            #expect(other.record(success: false, at: at(TimeInterval(index)), configuration: noConsecutive) == nil)
        }
        #expect(other.state == .closed)
        #expect(other.record(success: false, at: at(19), configuration: noConsecutive) == .opened)
    }

    @Test func theWindowRestartsAfterFiveMinutes() {
        let noConsecutive = BreakerConfiguration(consecutiveFailures: 1000)
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for index in 0..<19 {
            breaker.record(success: false, at: at(TimeInterval(index)), configuration: noConsecutive)
        }
        #expect(breaker.windowStartedAt == t0)
        #expect(breaker.windowAttempts == 19)

        // Just inside the window, the 20th failure trips.
        var inside = breaker
        #expect(inside.record(success: false, at: at(299), configuration: noConsecutive) == .opened)

        // Five minutes after the window started, it restarts: one attempt, one failure, no trip.
        var after = breaker
        #expect(after.record(success: false, at: at(300), configuration: noConsecutive) == nil)
        #expect(after.state == .closed)
        #expect(after.windowStartedAt == at(300))
        #expect(after.windowAttempts == 1)
        #expect(after.windowFailures == 1)
        #expect(after.consecutiveFailures == 20)
        // A success also restarts an expired window, forgetting old failures.
        var afterSuccess = breaker
        afterSuccess.record(success: true, at: at(400), configuration: noConsecutive)
        #expect(afterSuccess.windowAttempts == 1)
        #expect(afterSuccess.windowFailures == 0)
    }

    // MARK: Open

    @Test func whileOpenDeliveriesWaitUntilTheProbeTime() {
        let breaker = openedBreaker()
        let probeAt = at(4 + 30)
        #expect(breaker.nextProbeAt == probeAt)
        #expect(breaker.decision(now: at(5), probeInFlight: false) == .wait(until: probeAt))
        #expect(breaker.decision(now: at(33), probeInFlight: false) == .wait(until: probeAt))
        #expect(breaker.decision(now: at(5), probeInFlight: true) == .wait(until: probeAt))
    }

    @Test func aFailureRecordedWhileOpenDoesNotRetripOrMoveTheProbe() {
        var breaker = openedBreaker()
        let before = breaker
        // Requests sent before the breaker opened fail afterwards.
        #expect(breaker.record(success: false, at: at(10), configuration: configuration) == nil)
        #expect(breaker.record(success: false, at: at(20), configuration: configuration) == nil)
        #expect(breaker.state == .open)
        #expect(breaker.nextProbeAt == before.nextProbeAt)
        #expect(breaker.openedAt == before.openedAt)
        #expect(breaker.trips == 1)
        #expect(breaker.consecutiveFailures == 7)
        #expect(breaker.failingSince == at(0))
        #expect(breaker.decision(now: at(20), probeInFlight: false) == .wait(until: at(34)))
    }

    @Test func atTheProbeTimeOneProbeIsAllowed() {
        var breaker = openedBreaker()
        let probeAt = at(34)
        #expect(breaker.decision(now: probeAt, probeInFlight: false) == .probe)
        #expect(breaker.decision(now: probeAt.addingTimeInterval(100), probeInFlight: false) == .probe)
        guard case .wait(let until) = breaker.decision(now: probeAt, probeInFlight: true) else {
            Issue.record("a second probe was allowed while one is in flight")
            return
        }
        #expect(until > probeAt)

        breaker.beginProbe(at: probeAt)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.updatedAt == probeAt)
        #expect(breaker.decision(now: probeAt, probeInFlight: false) == .probe)
        guard case .wait = breaker.decision(now: probeAt, probeInFlight: true) else {
            Issue.record("a half-open breaker with a probe in flight allowed another request")
            return
        }
    }

    @Test func beginProbeOnlyMovesAnOpenBreaker() {
        var closed = CircuitBreaker(endpointID: "ep_1")
        closed.beginProbe(at: t0)
        #expect(closed.state == .closed)
    }

    @Test func aSuccessfulProbeClosesTheBreaker() {
        var breaker = openedBreaker()
        breaker.beginProbe(at: at(34))
        #expect(breaker.record(success: true, at: at(35), configuration: configuration) == .closed)
        #expect(breaker.state == .closed)
        #expect(breaker.trips == 0)
        #expect(breaker.openedAt == nil)
        #expect(breaker.nextProbeAt == nil)
        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.failingSince == nil)
        #expect(breaker.windowStartedAt == at(35))
        #expect(breaker.windowAttempts == 1)
        #expect(breaker.windowFailures == 0)
        #expect(breaker.decision(now: at(35), probeInFlight: false) == .send)

        // The next trip starts from the first interval again.
        for second in 36..<41 {
            breaker.record(success: false, at: at(TimeInterval(second)), configuration: configuration)
        }
        #expect(breaker.state == .open)
        #expect(breaker.nextProbeAt == at(40 + 30))
        #expect(breaker.trips == 1)
    }

    @Test func aFailedProbeReopensForTwiceAsLongUpToTenMinutes() throws {
        var breaker = openedBreaker()
        var now = try #require(breaker.nextProbeAt)
        #expect(now.timeIntervalSince(try #require(breaker.openedAt)) == 30)
        var intervals: [TimeInterval] = []
        for _ in 0..<7 {
            #expect(breaker.decision(now: now, probeInFlight: false) == .probe)
            breaker.beginProbe(at: now)
            let failedAt = now.addingTimeInterval(2)
            #expect(breaker.record(success: false, at: failedAt, configuration: configuration) == .reopened)
            #expect(breaker.state == .open)
            #expect(breaker.openedAt == failedAt)
            let next = try #require(breaker.nextProbeAt)
            intervals.append(next.timeIntervalSince(failedAt))
            #expect(breaker.decision(now: failedAt, probeInFlight: false) == .wait(until: next))
            now = next
        }
        #expect(intervals == [60, 120, 240, 480, 600, 600, 600])
        #expect(breaker.trips == 8)
    }

    @Test func resetClosesAndForgets() {
        var breaker = openedBreaker()
        breaker.reset(at: at(10))
        #expect(breaker.endpointID == "ep_1")
        #expect(breaker.state == .closed)
        #expect(breaker.trips == 0)
        #expect(breaker.consecutiveFailures == 0)
        #expect(breaker.windowAttempts == 0)
        #expect(breaker.windowFailures == 0)
        #expect(breaker.windowStartedAt == nil)
        #expect(breaker.openedAt == nil)
        #expect(breaker.nextProbeAt == nil)
        #expect(breaker.failingSince == nil)
        #expect(breaker.updatedAt == at(10))
        #expect(breaker.decision(now: at(10), probeInFlight: false) == .send)
        // Four more failures do not open it: the old ones are forgotten.
        for second in 11..<15 {
            #expect(breaker.record(success: false, at: at(TimeInterval(second)), configuration: configuration) == nil)
        }
        #expect(breaker.state == .closed)
    }

    // MARK: Configuration

    @Test func configuredThresholdsAreHonoured() throws {
        let custom = BreakerConfiguration(consecutiveFailures: 2, openInterval: 10, maximumOpenInterval: 25)
        var breaker = CircuitBreaker(endpointID: "ep_1")
        #expect(breaker.record(success: false, at: at(0), configuration: custom) == nil)
        #expect(breaker.record(success: false, at: at(1), configuration: custom) == .opened)
        #expect(breaker.nextProbeAt == at(11))
        var intervals: [TimeInterval] = []
        for _ in 0..<3 {
            let now = try #require(breaker.nextProbeAt)
            breaker.beginProbe(at: now)
            #expect(breaker.record(success: false, at: now, configuration: custom) == .reopened)
            intervals.append(try #require(breaker.nextProbeAt).timeIntervalSince(now))
        }
        #expect(intervals == [20, 25, 25])
    }

    @Test func configuredWindowIsHonoured() {
        let custom = BreakerConfiguration(
            consecutiveFailures: 1000, windowMinimumAttempts: 4, windowFailureRatio: 0.75, window: 60)
        var breaker = CircuitBreaker(endpointID: "ep_1")
        #expect(breaker.record(success: true, at: at(0), configuration: custom) == nil)
        #expect(breaker.record(success: false, at: at(1), configuration: custom) == nil)
        #expect(breaker.record(success: false, at: at(2), configuration: custom) == nil)
        // 3 of 4 is 75 %.
        #expect(breaker.record(success: false, at: at(3), configuration: custom) == .opened)

        // The same attempts spread beyond the 60 s window never reach 4.
        var spread = CircuitBreaker(endpointID: "ep_2")
        for (index, seconds) in [0.0, 30, 61, 91, 122, 152].enumerated() {
            #expect(spread.record(success: index == 0, at: at(seconds), configuration: custom) == nil)
        }
        #expect(spread.state == .closed)
        #expect(spread.consecutiveFailures == 5)
    }
}
