import Foundation
@testable import HooklineCore
import Testing

/// Builds deliveries, attempts and results by hand for the planner and the classifier.
private enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_764_000_000)

    static func delivery(attempts: Int = 0, manual: Bool = false) -> ClaimedDelivery {
        ClaimedDelivery(
            id: "dlv_1", eventID: "evt_1", eventType: "invoice.paid", endpointID: "ep_1",
            payload: Array(#"{"id":"evt_1"}"#.utf8), attempts: attempts, manual: manual)
    }

    static func result(
        status: Int?, attempts: Int = 0, manual: Bool = false, errorClass: String? = nil,
        retryAfter: TimeInterval? = nil, throttled: Bool = false, random: Double = 0.5, at start: Date = t0
    ) -> AttemptResult {
        let delivery = delivery(attempts: attempts, manual: manual)
        let attempt = Attempt(
            deliveryID: delivery.id, number: attempts + 1, trigger: manual ? .manual : .scheduled, startedAt: start,
            durationMs: 120, statusCode: status, errorClass: errorClass ?? (status.map { (200..<300).contains($0) } == true ? nil : "http_status"),
            errorMessage: status.map { "HTTP \($0)" })
        return AttemptResult(delivery: delivery, attempt: attempt, retryAfter: retryAfter, throttled: throttled, random: random)
    }
}

@Suite struct DeliveryPlannerTests {
    let planner = DeliveryPlanner()
    let now = Fixture.t0.addingTimeInterval(1)

    @Test func aSuccessSucceeds() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(Fixture.result(status: 200), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(plan.status == .succeeded)
        #expect(plan.nextAttemptAt == nil)
        #expect(plan.disableEndpoint == nil)
        #expect(plan.deferEndpointUntil == nil)
        #expect(plan.transition == nil)
        #expect(breaker.state == .closed)
        #expect(breaker.windowAttempts == 1)
        #expect(breaker.windowFailures == 0)
    }

    @Test func aServerErrorOnTheFirstAttemptRetriesInFiveSeconds() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(plan.status == .pending)
        let next = try #require(plan.nextAttemptAt)
        #expect(next == now.addingTimeInterval(5))
        #expect(plan.disableEndpoint == nil)
        #expect(plan.deferEndpointUntil == nil)
        #expect(plan.transition == nil)
        #expect(breaker.consecutiveFailures == 1)
        #expect(breaker.failingSince == now)
    }

    @Test(arguments: [0.0, 0.25, 0.5, 0.75, 1.0.nextDown])
    func theFirstRetryIsJitteredWithinTwentyPercent(_ random: Double) throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(Fixture.result(status: 500, random: random), breaker: &breaker, endpointEnabled: true, now: now)
        let wait = try #require(plan.nextAttemptAt).timeIntervalSince(now)
        #expect(wait >= 4 - 1e-6)
        #expect(wait <= 6 + 1e-6)
    }

    @Test func theRetryUsesTheScheduleEntryForTheAttemptsMade() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        // Attempt 3 (two made before) failing waits schedule[3] = 30 min.
        let plan = planner.plan(Fixture.result(status: 502, attempts: 2), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(plan.status == .pending)
        #expect(try #require(plan.nextAttemptAt) == now.addingTimeInterval(1800))
    }

    @Test func aThrottledFailureWaitsAtLeastTheFloor() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(
            Fixture.result(status: 429, retryAfter: 30, throttled: true), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(try #require(plan.nextAttemptAt) == now.addingTimeInterval(60))
        let long = planner.plan(
            Fixture.result(status: 503, retryAfter: 900), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(try #require(long.nextAttemptAt) == now.addingTimeInterval(900))
    }

    @Test func theLastScheduledAttemptFailingFailsTheDelivery() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(Fixture.result(status: 500, attempts: 7), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(plan.status == .failed)
        #expect(plan.nextAttemptAt == nil)
        #expect(plan.disableEndpoint == nil)
        // The second to last still retries, after 10 h.
        var other = CircuitBreaker(endpointID: "ep_1")
        let before = planner.plan(Fixture.result(status: 500, attempts: 6), breaker: &other, endpointEnabled: true, now: now)
        #expect(before.status == .pending)
        #expect(before.nextAttemptAt == now.addingTimeInterval(36_000))
    }

    @Test func goneDisablesTheEndpointAndHoldsTheDelivery() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(Fixture.result(status: 410), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(plan.status == .held)
        #expect(plan.nextAttemptAt == nil)
        let reason = try #require(plan.disableEndpoint)
        #expect(reason.contains("410"))
        #expect(reason.contains(Timestamp.iso8601(now)))
        #expect(plan.deferEndpointUntil == nil)
    }

    @Test func anEndpointDisabledMeanwhileHoldsTheDelivery() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: false, now: now)
        #expect(plan.status == .held)
        #expect(plan.nextAttemptAt == nil)
        #expect(plan.disableEndpoint == nil)
    }

    @Test func theBreakerOpeningOnTheFifthFailureDefersTheEndpoint() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        // Four failures of other deliveries to the same endpoint.
        for second in 0..<4 {
            let plan = planner.plan(
                Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(TimeInterval(second)))
            #expect(plan.transition == nil)
            #expect(plan.deferEndpointUntil == nil)
        }
        let fifthAt = Fixture.t0.addingTimeInterval(4)
        let plan = planner.plan(Fixture.result(status: 500, random: 0.5), breaker: &breaker, endpointEnabled: true, now: fifthAt)
        #expect(plan.transition == .opened)
        #expect(breaker.state == .open)
        let probeAt = try #require(breaker.nextProbeAt)
        #expect(probeAt == fifthAt.addingTimeInterval(30))
        #expect(plan.deferEndpointUntil == probeAt)
        let next = try #require(plan.nextAttemptAt)
        #expect(next >= probeAt)
        #expect(plan.status == .pending)
    }

    @Test func aLongerScheduledWaitIsKeptWhenTheBreakerOpens() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for second in 0..<4 {
            _ = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(TimeInterval(second)))
        }
        let fifthAt = Fixture.t0.addingTimeInterval(4)
        // Attempt 3 failing waits 30 min, longer than the breaker's 30 s.
        let plan = planner.plan(Fixture.result(status: 500, attempts: 2), breaker: &breaker, endpointEnabled: true, now: fifthAt)
        #expect(plan.transition == .opened)
        #expect(plan.deferEndpointUntil == fifthAt.addingTimeInterval(30))
        #expect(plan.nextAttemptAt == fifthAt.addingTimeInterval(1800))
    }

    @Test func aFailedProbeReopensAndDefersAgain() throws {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        for second in 0..<5 {
            _ = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(TimeInterval(second)))
        }
        let probeAt = try #require(breaker.nextProbeAt)
        breaker.beginProbe(at: probeAt)
        let failedAt = probeAt.addingTimeInterval(1)
        let plan = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: failedAt)
        #expect(plan.transition == .reopened)
        #expect(plan.deferEndpointUntil == failedAt.addingTimeInterval(60))
        #expect(try #require(plan.nextAttemptAt) >= failedAt.addingTimeInterval(60))

        // A successful probe closes it.
        breaker.beginProbe(at: failedAt.addingTimeInterval(60))
        let success = planner.plan(Fixture.result(status: 204), breaker: &breaker, endpointEnabled: true, now: failedAt.addingTimeInterval(61))
        #expect(success.status == .succeeded)
        #expect(success.transition == .closed)
        #expect(breaker.state == .closed)
    }

    @Test func anEndpointFailingLongerThanAutoDisableAfterIsDisabled() throws {
        let planner = DeliveryPlanner(autoDisableAfter: 60)
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let first = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0)
        #expect(first.status == .pending)
        #expect(breaker.failingSince == Fixture.t0)
        let early = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(59))
        #expect(early.status == .pending)
        #expect(early.disableEndpoint == nil)

        let late = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(61))
        #expect(late.status == .held)
        #expect(late.nextAttemptAt == nil)
        let reason = try #require(late.disableEndpoint)
        #expect(reason.contains("auto-disabled"))
        #expect(reason.contains(Timestamp.iso8601(Fixture.t0)))
    }

    @Test func aSuccessRestartsTheAutoDisableClock() {
        let planner = DeliveryPlanner(autoDisableAfter: 60)
        var breaker = CircuitBreaker(endpointID: "ep_1")
        _ = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0)
        _ = planner.plan(Fixture.result(status: 200), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(30))
        #expect(breaker.failingSince == nil)
        let plan = planner.plan(Fixture.result(status: 500), breaker: &breaker, endpointEnabled: true, now: Fixture.t0.addingTimeInterval(70))
        #expect(plan.status == .pending)
        #expect(plan.disableEndpoint == nil)
        #expect(breaker.failingSince == Fixture.t0.addingTimeInterval(70))
    }

    @Test func theDefaultAutoDisableIsFiveDays() {
        #expect(planner.autoDisableAfter == 5 * 86_400)
    }

    @Test func aManualRedeliveryAfterExhaustionFailsAgain() {
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let plan = planner.plan(
            Fixture.result(status: 500, attempts: 8, manual: true), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(plan.status == .failed)
        #expect(plan.nextAttemptAt == nil)
        let success = planner.plan(
            Fixture.result(status: 200, attempts: 8, manual: true), breaker: &breaker, endpointEnabled: true, now: now)
        #expect(success.status == .succeeded)
    }
}

@Suite struct AttemptClassifierTests {
    let startedAt = Fixture.t0
    let finishedAt = Fixture.t0.addingTimeInterval(0.25)

    func classify(_ outcome: TransportOutcome, attempts: Int = 0, manual: Bool = false) -> AttemptResult {
        AttemptClassifier.result(
            for: Fixture.delivery(attempts: attempts, manual: manual), outcome: outcome, startedAt: startedAt,
            finishedAt: finishedAt, random: 0.5)
    }

    @Test func aRedirectIsAFailureNamingItsTarget() throws {
        let result = classify(TransportOutcome(statusCode: 302, headers: ["location": "https://example.com/new"], durationMs: 12))
        #expect(!result.attempt.succeeded)
        #expect(result.attempt.statusCode == 302)
        #expect(result.attempt.errorClass == "redirect")
        let message = try #require(result.attempt.errorMessage)
        #expect(message.contains("https://example.com/new"))
        #expect(message.contains("302"))
        #expect(result.retryAfter == nil)
        #expect(result.throttled == false)
    }

    @Test func aRedirectWithoutLocationSaysSo() throws {
        let result = classify(TransportOutcome(statusCode: 307, durationMs: 12))
        #expect(result.attempt.errorClass == "redirect")
        #expect(try #require(result.attempt.errorMessage).contains("without a Location"))
    }

    @Test func tooManyRequestsWithRetryAfterSeconds() throws {
        let result = classify(TransportOutcome(statusCode: 429, headers: ["retry-after": "30"], durationMs: 12))
        #expect(result.attempt.errorClass == "http_status")
        #expect(result.retryAfter == 30)
        #expect(result.throttled)
        let message = try #require(result.attempt.errorMessage)
        #expect(message.contains("429"))
        #expect(message.contains("Retry-After 30s"))
    }

    @Test func tooManyRequestsWithoutRetryAfterIsThrottled() {
        let result = classify(TransportOutcome(statusCode: 429, durationMs: 12))
        #expect(result.retryAfter == nil)
        #expect(result.throttled)
    }

    @Test func serviceUnavailableWithAnHTTPDate() throws {
        // finishedAt plus 2 minutes, as an IMF-fixdate.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let header = formatter.string(from: Date(timeIntervalSince1970: 1_764_000_120))
        let result = classify(TransportOutcome(statusCode: 503, headers: ["retry-after": header], durationMs: 12))
        #expect(result.attempt.errorClass == "http_status")
        let retryAfter = try #require(result.retryAfter)
        #expect(retryAfter == 119.75)
        #expect(result.throttled == false)
        #expect(try #require(result.attempt.errorMessage).contains("Retry-After 2m"))
    }

    @Test func retryAfterIsIgnoredOnOtherStatuses() {
        let result = classify(TransportOutcome(statusCode: 500, headers: ["retry-after": "30"], durationMs: 12))
        #expect(result.retryAfter == nil)
        #expect(result.throttled == false)
        #expect(result.attempt.errorMessage == "HTTP 500")
    }

    @Test func aTimeoutIsThrottled() {
        let result = classify(.failure(.timeout, "no response within 15s", durationMs: 15_000))
        #expect(result.attempt.statusCode == nil)
        #expect(result.attempt.errorClass == "timeout")
        #expect(result.attempt.errorMessage == "no response within 15s")
        #expect(result.throttled)
        #expect(result.retryAfter == nil)
        #expect(!result.attempt.succeeded)
    }

    @Test func aConnectionFailureIsNotThrottled() {
        let result = classify(.failure(.connect, "connection refused", durationMs: 3))
        #expect(result.attempt.errorClass == "connect")
        #expect(result.throttled == false)
    }

    @Test func anOKHasNoError() {
        let result = classify(TransportOutcome(statusCode: 200, bodyExcerpt: Array("ok".utf8), durationMs: 42))
        #expect(result.attempt.succeeded)
        #expect(result.attempt.errorClass == nil)
        #expect(result.attempt.errorMessage == nil)
        #expect(result.attempt.responseExcerpt == "ok")
        #expect(result.attempt.durationMs == 42)
        #expect(result.attempt.startedAt == startedAt)
        #expect(result.retryAfter == nil)
        #expect(result.throttled == false)
        #expect(result.random == 0.5)
    }

    @Test func anEmptyBodyHasNoExcerpt() {
        let result = classify(TransportOutcome(statusCode: 204, durationMs: 1))
        #expect(result.attempt.responseExcerpt == nil)
    }

    @Test func theAttemptNumberAndTriggerFollowTheDelivery() {
        let scheduled = classify(TransportOutcome(statusCode: 200, durationMs: 1), attempts: 3)
        #expect(scheduled.attempt.number == 4)
        #expect(scheduled.attempt.trigger == .scheduled)
        #expect(scheduled.attempt.deliveryID == "dlv_1")
        let manual = classify(TransportOutcome(statusCode: 200, durationMs: 1), attempts: 8, manual: true)
        #expect(manual.attempt.number == 9)
        #expect(manual.attempt.trigger == .manual)
    }

    @Test func classifiedResultsFeedThePlanner() throws {
        // A 429 asking for 30 s on the first attempt waits the 60 s floor.
        let planner = DeliveryPlanner()
        var breaker = CircuitBreaker(endpointID: "ep_1")
        let result = classify(TransportOutcome(statusCode: 429, headers: ["retry-after": "30"], durationMs: 12))
        let plan = planner.plan(result, breaker: &breaker, endpointEnabled: true, now: finishedAt)
        #expect(plan.status == .pending)
        #expect(try #require(plan.nextAttemptAt) == finishedAt.addingTimeInterval(60))
    }
}
