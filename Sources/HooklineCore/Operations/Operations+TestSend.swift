import Foundation

extension Operations {
    /// Sends the catalog's example of `eventType` to an endpoint now, signed as a real delivery with a
    /// fresh event id, outside the queue and the breaker (a disabled endpoint can be tested too), and
    /// keeps the attempt with the endpoint.
    ///
    /// A failed send is a result, not an error: ``TestSend/advice`` says what to check. Errors are
    /// for a bad id or type and for the store.
    public func sendTest(
        endpointID: String, eventType: String = "case.created", transport: any HTTPTransport, timeout: TimeInterval = 15
    ) async throws(HooklineError) -> TestSend {
        let endpoint = try await endpoint(id: endpointID)
        let type = try EventCatalog.requireKnown(eventType)
        let event = try prepare(type: type.name, data: try JSONValue.parse(Array(type.exampleData.utf8)), id: nil, timestamp: nil)
        // Stored to the millisecond: the result returned is the one kept.
        let startedAt = Timestamp.date(milliseconds: Timestamp.milliseconds(clock.now()))
        let headers = endpoint.requestHeaders(body: event.payload, eventID: event.id, eventType: type.name, attempt: 1, at: startedAt)
        let outcome = await transport.send(OutboundRequest(url: endpoint.url, headers: headers, body: event.payload, timeout: timeout))
        var send = TestSend(
            endpointID: endpoint.id, eventID: event.id, eventType: type.name, startedAt: startedAt, durationMs: outcome.durationMs,
            statusCode: outcome.statusCode, errorClass: outcome.errorClass?.rawValue, errorMessage: outcome.errorMessage,
            responseExcerpt: outcome.bodyExcerpt.isEmpty ? nil : String(decoding: outcome.bodyExcerpt, as: UTF8.self))
        if let code = outcome.statusCode, !(200..<300).contains(code) {
            let (errorClass, message) = AttemptClassifier.failure(status: code, outcome: outcome)
            (send.errorClass, send.errorMessage) = (errorClass.rawValue, message)
        }
        let result = send.succeeded ? "HTTP \(send.statusCode ?? 0)" : (send.errorMessage ?? send.errorClass ?? "failed")
        try await store.recordTestSend(send, audit: audit("endpoint.test", [endpoint.id], "\(type.name): \(result) in \(send.durationMs) ms"))
        logger.info("test send", metadata: [
            "endpoint.id": "\(endpoint.id)", "event.id": "\(event.id)", "event.type": "\(type.name)",
            "attempt.status": "\(send.statusCode.map(String.init) ?? "-")", "attempt.duration_ms": "\(send.durationMs)",
        ])
        return send
    }
}
