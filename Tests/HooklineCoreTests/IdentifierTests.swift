import Foundation
@testable import HooklineCore
import Testing

@Suite struct IdentifierTests {
    @Test func eventIdsAreULIDsWithThePrefix() {
        let id = Identifier.event()
        #expect(id.hasPrefix("evt_"))
        #expect(Identifier.isULID(id.dropFirst(4)))
        #expect(Identifier.isULID(Identifier.endpoint().dropFirst(3)))
        #expect(Identifier.isULID(Identifier.delivery().dropFirst(4)))
    }

    @Test func idsSortByTimeAndStayMonotonicWithinAMillisecond() {
        let instant = Date(timeIntervalSince1970: 1_764_000_000.123)
        let sameMillisecond = (0..<1000).map { _ in Identifier.ulid(at: instant) }
        #expect(sameMillisecond == sameMillisecond.sorted())
        #expect(Set(sameMillisecond).count == 1000)
        let later = Identifier.ulid(at: instant.addingTimeInterval(1))
        #expect(later > sameMillisecond.last!)
    }

    @Test func timestampIsEncodedInTheFirstTenCharacters() {
        // 1469918176385 ms is 01ARYZ6S41 in the ULID specification's example.
        let encoded = Identifier.encode(time: 1_469_918_176_385, randomHigh: 0, randomLow: 0)
        #expect(encoded.hasPrefix("01ARYZ6S41"))
        #expect(encoded.hasSuffix("0000000000000000"))
        let allOnes = Identifier.encode(time: 0, randomHigh: .max, randomLow: .max)
        #expect(allOnes == "0000000000ZZZZZZZZZZZZZZZZ")
    }

    @Test(arguments: ["evt_test_123", "evt_01HXXXXXXXXXXXXXXXXX", "evt_a-b"])
    func producerIdsAreAccepted(_ id: String) throws {
        try Identifier.validate(id, prefix: "evt_", kind: "event")
    }

    @Test(arguments: ["", "evt_", "ep_123", "evt_'; DROP TABLE event;--", "evt_a b", "evt_\u{0}", "evt_" + String(repeating: "a", count: 101), "evt_é"])
    func malformedIdsAreRefusedWithASentence(_ id: String) {
        #expect(throws: HooklineError.self) { try Identifier.validate(id, prefix: "evt_", kind: "event") }
        do {
            try Identifier.validate(id, prefix: "evt_", kind: "event")
        } catch {
            #expect(error.description.contains("is not a valid event id"))
        }
    }
}
