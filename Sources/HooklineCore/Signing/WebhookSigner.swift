import Crypto
import Foundation

/// Builds the signed headers of one attempt, in the wire format receivers verify.
///
/// Both schemes are keyed with the UTF-8 bytes of the endpoint secret:
/// - `X-Webhook-Signature`: lowercase hex HMAC-SHA256 of the body (the guide's verifiers);
/// - `webhook-signature`: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` (Standard Webhooks).
///
/// During a secret rotation `webhook-signature` carries both signatures, space-separated (receivers
/// accept either, as Standard Webhooks specifies), while `X-Webhook-Signature` uses the new secret.
public struct WebhookSigner: Sendable {
    /// The `User-Agent` sent with every attempt.
    public static let userAgent = "Hookline/\(HooklineVersion.current)"

    /// The secret's UTF-8 bytes; `SymmetricKey` is not `Sendable`, so a key is made per use.
    private let secretBytes: [UInt8]
    private let previousSecretBytes: [UInt8]?

    /// A signer for one endpoint secret, and during a rotation the secret it replaces.
    public init(secret: String, previousSecret: String? = nil) {
        self.secretBytes = Array(secret.utf8)
        self.previousSecretBytes = previousSecret.map { Array($0.utf8) }
    }

    private var key: SymmetricKey { SymmetricKey(data: secretBytes) }

    /// Lowercase hex HMAC-SHA256 of the body: the `X-Webhook-Signature` value.
    public func signature<Body: DataProtocol>(body: Body) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: key))
    }

    /// `v1,<base64>` over `{id}.{timestamp}.{body}`: the Standard Webhooks `webhook-signature` value.
    /// With a previous secret, its signature follows after a space.
    public func standardSignature<Body: DataProtocol>(eventID: String, timestamp: Int64, body: Body) -> String {
        let signed = Array("\(eventID).\(timestamp).".utf8)
        func sign(_ key: SymmetricKey) -> String {
            var mac = HMAC<SHA256>(key: key)
            mac.update(data: signed)
            mac.update(data: body)
            return "v1," + Data(mac.finalize()).base64EncodedString()
        }
        guard let previousSecretBytes else { return sign(key) }
        return sign(key) + " " + sign(SymmetricKey(data: previousSecretBytes))
    }

    /// Every header of an attempt, in the order they are sent.
    public func headers(
        body: [UInt8], eventID: String, eventType: String, attempt: Int, timestamp: Int64
    ) -> [(name: String, value: String)] {
        [
            ("Content-Type", "application/json"),
            ("User-Agent", WebhookSigner.userAgent),
            ("X-Webhook-Signature", signature(body: body)),
            ("X-Webhook-Event", eventType),
            ("X-Webhook-Id", eventID),
            ("X-Webhook-Attempt", String(attempt)),
            ("X-Webhook-Timestamp", String(timestamp)),
            ("webhook-id", eventID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", standardSignature(eventID: eventID, timestamp: timestamp, body: body)),
        ]
    }
}

/// The version Hookline reports in `User-Agent` and `--version`.
public enum HooklineVersion {
    public static let current = "0.1.0"
}
