import HooklineCore
import Hummingbird
import NIOCore

/// The API's answers: JSON bodies, and errors as `{"error": sentence, "field"?: name}`.
enum APIResponse {
    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.canonicalBytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ sentence: String, field: String? = nil, retryAfter: Int? = nil) -> Response {
        var object = JSONObject([("error", .string(sentence))])
        if let field { object["field"] = .string(field) }
        var response = json(status, .object(object))
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// A core error as the status a client can act on: its input (400), a missing record (404), the
    /// state of things (409), or the server's own trouble (503, worth retrying).
    static func failure(_ error: HooklineError) -> Response {
        switch error {
        case .invalidField(let field, let sentence): return Self.error(.badRequest, sentence, field: field)
        case .invalidJSON: return Self.error(.badRequest, error.description, field: "body")
        case .invalidInput: return Self.error(.badRequest, error.description)
        case .notFound: return Self.error(.notFound, error.description)
        case .conflict(let sentence): return Self.error(.conflict, apiWording(sentence))
        default: return Self.error(.serviceUnavailable, error.description)
        }
    }

    /// The core says a removal "may be forced"; over HTTP that is the `force=true` query parameter.
    static func apiWording(_ sentence: String) -> String {
        sentence.replacingOccurrences(of: "force the removal", with: "add ?force=true")
    }

    /// A list page: `{"data": [...], "next_cursor": "..." | null}`.
    static func page(_ items: [JSONValue], next: String?) -> Response {
        json(.ok, .object(JSONObject([("data", .array(items)), ("next_cursor", next.map(JSONValue.string) ?? .null)])))
    }
}
