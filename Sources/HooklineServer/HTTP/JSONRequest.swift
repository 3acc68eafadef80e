import HooklineCore
import Hummingbird
import NIOCore

/// Reads a request's JSON body the one way every route does: `Content-Type: application/json`
/// (parameters such as `charset=utf-8` allowed), at most `limit` bytes, integers beyond ±2^53
/// refused where they are, and an object of known fields only.
struct JSONRequest {
    /// The media type of the body is exactly `application/json`, whatever its parameters and case.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    static let unsupportedMediaType = APIResponse.error(
        .unsupportedMediaType, "Send the body as JSON with 'Content-Type: application/json'.")

    /// The body's bytes, or the response that refuses it.
    static func body(_ request: inout Request, limit: Int) async -> Result<ByteBuffer, Refusal> {
        guard isJSON(request.headers[.contentType]) else { return .failure(Refusal(unsupportedMediaType)) }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return .failure(Refusal(APIResponse.error(.contentTooLarge, "The body is \(length) bytes; the limit is \(limit) bytes.")))
        }
        do {
            return .success(try await request.collectBody(upTo: limit))
        } catch {
            return .failure(Refusal(APIResponse.error(.contentTooLarge, "The body is larger than the limit of \(limit) bytes.")))
        }
    }

    /// The body as an object whose fields are all in `fields`; an empty body is an empty object
    /// when `emptyAllowed`.
    static func object(
        _ request: inout Request, fields: [String], emptyAllowed: Bool = false, limit: Int = 64 * 1024
    ) async -> Result<JSONFields, Refusal> {
        if emptyAllowed, request.headers[.contentLength] == nil || request.headers[.contentLength] == "0",
           request.headers[.contentType] == nil {
            return .success(JSONFields(JSONObject()))
        }
        let bytes: ByteBuffer
        switch await body(&request, limit: limit) {
        case .success(let buffer): bytes = buffer
        case .failure(let refusal): return .failure(refusal)
        }
        if emptyAllowed && bytes.readableBytes == 0 { return .success(JSONFields(JSONObject())) }
        do throws(HooklineError) {
            let json = try JSONValue.parse(bytes.readableBytesView, refusingUnsafeIntegers: true)
            guard case .object(let object) = json else {
                throw HooklineError.invalidField(field: "body", sentence: "The body must be a JSON object, not \(json.typeName).")
            }
            if let unknown = object.keys.first(where: { !fields.contains($0) }) {
                throw HooklineError.invalidField(
                    field: unknown, sentence: "Unknown field '\(unknown)'; this request takes \(fields.joined(separator: ", ")).")
            }
            return .success(JSONFields(object))
        } catch {
            return .failure(Refusal(APIResponse.failure(error)))
        }
    }

    /// A response that ends a request before its route's work.
    struct Refusal: Error {
        let response: Response
        init(_ response: Response) { self.response = response }
    }
}

/// A request body's fields, read with a sentence naming the field when one has the wrong type.
struct JSONFields: Sendable {
    let object: JSONObject

    init(_ object: JSONObject) { self.object = object }

    func has(_ key: String) -> Bool { object[key] != nil }

    /// What tells this request from another under one idempotency key: the route and the body
    /// with its keys sorted at every level (so key order and spacing do not matter).
    func fingerprint(_ route: String) -> [String] {
        [route, Self.sortingKeys(.object(object)).canonicalString]
    }

    static func sortingKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            let keys = object.keys.sorted()
            return .object(JSONObject(keys.map { ($0, sortingKeys(object[$0] ?? .null)) }))
        case .array(let items):
            return .array(items.map(sortingKeys))
        default:
            return value
        }
    }

    func string(_ key: String, _ what: String) throws(HooklineError) -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let text) = value else {
            throw .invalidField(field: key, sentence: "'\(key)' must be a string: \(what).")
        }
        return text
    }

    func bool(_ key: String) throws(HooklineError) -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw .invalidField(field: key, sentence: "'\(key)' must be true or false.") }
        return flag
    }

    func number(_ key: String, _ what: String) throws(HooklineError) -> Double? {
        guard let value = object[key], value != .null else { return nil }
        guard case .number(let number) = value else {
            throw .invalidField(field: key, sentence: "'\(key)' must be a number: \(what).")
        }
        return number
    }

    func strings(_ key: String, _ what: String) throws(HooklineError) -> [String]? {
        guard let value = object[key], value != .null else { return nil }
        guard case .array(let items) = value else {
            throw .invalidField(field: key, sentence: "'\(key)' must be an array of strings: \(what).")
        }
        return try items.enumerated().map { index, item throws(HooklineError) in
            guard case .string(let text) = item else {
                throw .invalidField(field: "\(key)[\(index)]", sentence: "'\(key)[\(index)]' must be a string: \(what).")
            }
            return text
        }
    }

    /// An object of string values (metadata, headers), in the order sent.
    func stringMap(_ key: String, _ what: String) throws(HooklineError) -> [(String, String)]? {
        guard let value = object[key], value != .null else { return nil }
        guard case .object(let map) = value else {
            throw .invalidField(field: key, sentence: "'\(key)' must be an object of strings: \(what).")
        }
        return try map.keys.map { name throws(HooklineError) in
            guard case .string(let text)? = map[name] else {
                throw .invalidField(field: "\(key).\(name)", sentence: "'\(key).\(name)' must be a string.")
            }
            return (name, text)
        }
    }
}
