import Foundation
import Tracing

/// A span for each attempt, for `serve --otel-endpoint`: a child of the span that accepted the
/// event (so the producer's trace shows every attempt, however late) and linked to it, with the
/// attributes an operator filters on. With `propagate`, the request carries the attempt span's
/// `traceparent` to the receiver.
public struct AttemptTracing: Sendable {
    public let tracer: any Tracer
    public let propagate: Bool

    public init(tracer: any Tracer, propagate: Bool) {
        self.tracer = tracer
        self.propagate = propagate
    }

    /// Starts the span of `delivery`'s next attempt to `endpoint`, and adds its `traceparent` to the
    /// request when propagating.
    func start(_ delivery: ClaimedDelivery, endpoint: Endpoint, request: inout OutboundRequest) -> any Span {
        var parent = ServiceContext.topLevel
        if let traceParent = delivery.traceParent {
            tracer.extract([TraceHeaders.traceParent: traceParent], into: &parent, using: TraceHeaders.DictionaryExtractor())
        }
        let span = tracer.startSpan("webhook.attempt", context: parent, ofKind: .client)
        if delivery.traceParent != nil { span.addLink(SpanLink(context: parent, attributes: [:])) }
        span.attributes["hookline.event.id"] = delivery.eventID
        span.attributes["hookline.event.type"] = delivery.eventType
        span.attributes["hookline.delivery.id"] = delivery.id
        span.attributes["hookline.endpoint.id"] = delivery.endpointID
        span.attributes["hookline.tenant"] = endpoint.tenant
        span.attributes["hookline.attempt.number"] = delivery.attempts + 1
        span.attributes["hookline.attempt.manual"] = delivery.manual
        span.attributes["http.request.method"] = "POST"
        if propagate {
            var headers: [String: String] = [:]
            tracer.inject(span.context, into: &headers, using: TraceHeaders.DictionaryInjector())
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.append((name, value)) }
        }
        return span
    }

    /// Ends an attempt's span with the attempt as ``AttemptClassifier`` made it: the status code,
    /// and for a failure the error class and sentence the attempt is recorded with.
    func end(_ span: any Span, attempt: Attempt) {
        if let code = attempt.statusCode { span.attributes["http.response.status_code"] = code }
        span.attributes["hookline.attempt.duration_ms"] = attempt.durationMs
        if !attempt.succeeded {
            let errorClass = attempt.errorClass ?? AttemptErrorClass.network.rawValue
            span.attributes["error.type"] = errorClass
            span.setStatus(SpanStatus(code: .error, message: attempt.errorMessage ?? errorClass))
        }
        span.end()
    }
}

/// The W3C trace-context header and carriers for it.
public enum TraceHeaders {
    public static let traceParent = "traceparent"

    /// Reads a header from a `[name: value]` dictionary (names lowercased).
    public struct DictionaryExtractor: Extractor {
        public init() {}
        public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key.lowercased()] }
    }

    /// Writes a header into a `[name: value]` dictionary.
    public struct DictionaryInjector: Injector {
        public init() {}
        public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key.lowercased()] = value }
    }
}
