import Crypto
import Foundation

/// A tenant token of the management API: it sees and changes only its tenant.
///
/// The store keeps the SHA-256 digest of the token, never the token itself, which is shown once
/// when issued.
public struct APIToken: Sendable, Hashable {
    /// The prefix of a token's id (`tok_01…`), which audit entries name as the actor.
    public static let idPrefix = "tok_"
    /// The prefix of a token's value, so that secret scanners and people recognise one.
    public static let valuePrefix = "hlt_"

    public var id: String
    public var tenant: String
    public var createdAt: Date
    /// When it was revoked; a revoked token authenticates nothing.
    public var revokedAt: Date?

    public init(id: String, tenant: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.tenant = tenant
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// A new token value: the prefix and 32 random bytes, base64url.
    public static func generateValue() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return valuePrefix + text
    }

    /// What the store keeps of a token value: its SHA-256 digest in hex.
    public static func digest(_ value: String) -> String {
        SHA256.hash(data: Array(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a token id (`tok_` and a ULID's characters).
    public static func validate(id: String) throws(HooklineError) {
        do {
            try Identifier.validate(id, prefix: idPrefix, kind: "token")
        } catch {
            throw .invalidField(field: "token", sentence: error.description)
        }
    }
}

/// A token just issued: the record, and its value, which is shown this once.
public struct IssuedToken: Sendable, Hashable {
    public var token: APIToken
    public var value: String
}
