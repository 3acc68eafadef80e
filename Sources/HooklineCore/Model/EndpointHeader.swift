import Foundation

/// A header an endpoint's owner asked for, sent with every attempt (an API key their gateway
/// checks, a routing hint). It can never replace a header Hookline sets.
public struct EndpointHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The value as listings show it: masked when the name looks like a credential
    /// (`Authorization`, `Cookie`, or a name with `key`, `token`, `secret` or `password` in it).
    public var displayValue: String {
        let lowered = name.lowercased()
        let credential = lowered == "authorization" || lowered == "proxy-authorization" || lowered == "cookie"
            || ["key", "token", "secret", "password", "auth"].contains { lowered.contains($0) }
        return credential ? Secret.mask(value) : value
    }

    /// The most headers an endpoint may have.
    public static let maximumCount = 20
    /// The longest value accepted.
    public static let maximumValueLength = 1000

    /// Header names Hookline sets itself, compared case-insensitively; `x-webhook-` and `webhook-`
    /// prefixes are reserved as well.
    static let reservedNames: Set<String> = ["content-type", "host", "content-length", "user-agent", "transfer-encoding", "connection"]
    static let reservedPrefixes = ["x-webhook-", "webhook-"]

    /// Parses `Name: value` as given on the command line.
    public static func parse(_ text: String) throws(HooklineError) -> EndpointHeader {
        guard let colon = text.firstIndex(of: ":") else {
            throw .invalidField(field: "headers", sentence: "'\(Identifier.printable(text))' is not a header; write it as 'Name: value'.")
        }
        let header = EndpointHeader(
            name: text[..<colon].trimmingCharacters(in: .whitespaces), value: text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        try validate([header])
        return header
    }

    /// Checks a list of headers: RFC 9110 token names, each once, none reserved, plain values.
    public static func validate(_ headers: [EndpointHeader]) throws(HooklineError) {
        guard headers.count <= maximumCount else {
            throw .invalidField(field: "headers", sentence: "An endpoint may have at most \(maximumCount) custom headers; \(headers.count) were given.")
        }
        var seen: Set<String> = []
        for header in headers {
            let lowered = header.name.lowercased()
            let shown = Identifier.printable(header.name)
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(isTokenCharacter) else {
                throw .invalidField(field: "headers", sentence: "'\(shown)' is not a header name; use letters, digits and !#$%&'*+-.^_`|~ only.")
            }
            guard !reservedNames.contains(lowered), !reservedPrefixes.contains(where: lowered.hasPrefix) else {
                throw .invalidField(
                    field: "headers",
                    sentence: "The header '\(shown)' is set by Hookline and cannot be replaced; Content-Type, Host, Content-Length, User-Agent and X-Webhook-* / Webhook-* are reserved.")
            }
            guard seen.insert(lowered).inserted else {
                throw .invalidField(field: "headers", sentence: "The header '\(shown)' is given twice; give each header once.")
            }
            guard header.value.count <= maximumValueLength,
                  !header.value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                throw .invalidField(
                    field: "headers",
                    sentence: "The value of the header '\(shown)' must be at most \(maximumValueLength) characters with no line breaks or control characters.")
            }
        }
    }

    /// RFC 9110 `tchar`.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// The headers as stored: a JSON array of `[name, value]` pairs, in the order given.
    public static func storedValue(_ headers: [EndpointHeader]) -> String {
        JSONValue.array(headers.map { .array([.string($0.name), .string($0.value)]) }).canonicalString
    }

    /// Headers from their stored form.
    public static func headers(stored: String) -> [EndpointHeader] {
        guard case .array(let pairs)? = try? JSONValue.parse(stored) else { return [] }
        return pairs.compactMap { pair in
            guard case .array(let parts) = pair, parts.count == 2, case .string(let name) = parts[0], case .string(let value) = parts[1] else { return nil }
            return EndpointHeader(name: name, value: value)
        }
    }
}
