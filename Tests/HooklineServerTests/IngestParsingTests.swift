import HooklineCore
import HooklineServer
import Testing

/// `IngestAPI.parseEvents`: the body parsing of `POST /v1/events` and `/v1/events/batch`, which the
/// FuzzIngestRequest fuzz target (Fuzz/, docs/FUZZING.md) drives with arbitrary bytes.
@Suite struct IngestParsingTests {
    static let lost = #"{"event":"case.lost","data":{"case":{"id":"c"},"loss_details":{"lost_at":"x","reason":"y"}}}"#

    func parse(_ body: String, batch: Bool = false, key: String? = nil, maximumBatch: Int = 1000) throws(HooklineError)
        -> [Result<EmitRequest, HooklineError>]
    {
        try IngestAPI.parseEvents(body: Array(body.utf8), batch: batch, idempotencyKey: key, maximumBatch: maximumBatch)
    }

    @Test func aSingleEventGivesOneRequestAndCarriesTheKey() throws {
        let results = try parse(Self.lost, key: "order-42")
        #expect(results.count == 1)
        let item = try results[0].get()
        #expect(item.type == "case.lost")
        #expect(item.id == nil)
        #expect(item.idempotencyKey == "order-42")
        #expect(item.data["case"]?["id"] == .string("c"))
    }

    @Test func aSingleEventThatIsWrongThrowsAndNamesTheField() {
        #expect(throws: HooklineError.invalidField(field: "body", sentence: "An event must be a JSON object, not array.")) {
            try parse("[]")
        }
        #expect(throws: HooklineError.invalidField(
            field: "id", sentence: "The Idempotency-Key header and the id field differ; send one of them, or the same value."
        )) {
            try parse(#"{"event":"case.lost","data":{},"id":"evt_a"}"#, key: "evt_b")
        }
    }

    @Test(arguments: [
        "",
        "\u{FEFF}{}",
        #"{"event":"case.lost","data":{},"id":"\ud800"}"#,
        #"{"event":"case.lost","data":1e400}"#,
    ])
    func malformedBodiesAreRefusedAsJSONErrors(body: String) {
        for batch in [false, true] {
            #expect {
                try parse(body, batch: batch)
            } throws: { error in
                guard case .invalidJSON = error as? HooklineError else { return false }
                return true
            }
        }
    }

    @Test func nestingDeeperThanTheLimitIsAJSONError() {
        let depth = JSONValue.maximumDepth + 1
        let body = #"{"event":"case.lost","data":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        #expect {
            try parse(body)
        } throws: { error in
            guard case .invalidJSON(let detail) = error as? HooklineError else { return false }
            return detail.hasPrefix("nesting deeper than \(JSONValue.maximumDepth) levels at line 1, column ")
        }
    }

    @Test func invalidUTF8IsAJSONError() {
        #expect(throws: HooklineError.invalidJSON("invalid UTF-8 at byte 2")) {
            try IngestAPI.parseEvents(body: [0x22, 0x61, 0xFF, 0x22], batch: false, idempotencyKey: nil)
        }
    }

    @Test func aBatchHasOneResultPerItemAndIgnoresTheHeader() throws {
        let body = #"{"events":[\#(Self.lost),{"event":"case.nope","data":{}},7]}"#
        let results = try parse(body, batch: true, key: "evt_header")
        #expect(results.count == 3)
        #expect(try results[0].get().id == nil)
        #expect(throws: HooklineError.self) { try results[1].get() }
        if case .failure(.invalidField(let field, _)) = results[1] { #expect(field == "events[1].event") } else { Issue.record("\(results[1])") }
        if case .failure(.invalidField(let field, _)) = results[2] { #expect(field == "events[2]") } else { Issue.record("\(results[2])") }
    }

    @Test(arguments: [
        (#"{"events":{}}"#, "events"),
        (#"{"events":[]}"#, "events"),
        (#"{"events":[1,2,3]}"#, "events"),
        (#"{"events":[1],"":0}"#, ""),
        (#"[{"events":[1]}]"#, "events"),
    ])
    func aBatchOfTheWrongShapeThrows(body: String, field: String) {
        #expect {
            try parse(body, batch: true, maximumBatch: 2)
        } throws: { error in
            guard case .invalidField(let named, _) = error as? HooklineError else { return false }
            return named == field
        }
    }
}
