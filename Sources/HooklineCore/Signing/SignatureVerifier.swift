import Crypto
import Foundation

/// Checks signatures the way a receiver does, comparing in constant time.
public struct SignatureVerifier: Sendable {
    /// The secret's UTF-8 bytes; `SymmetricKey` is not `Sendable`, so a key is made per use.
    private let secretBytes: [UInt8]

    /// A verifier for one endpoint secret.
    public init(secret: String) {
        self.secretBytes = Array(secret.utf8)
    }

    private var key: SymmetricKey { SymmetricKey(data: secretBytes) }

    /// Whether `signatureHex` (the `X-Webhook-Signature` value, either case) is the HMAC of the body.
    ///
    /// The comparison goes through `HMAC.isValidAuthenticationCode`, which takes the same time
    /// whatever the position of the first differing byte.
    public func isValid<Body: DataProtocol>(signatureHex: String, body: Body) -> Bool {
        let trimmed = signatureHex.trimmingCharacters(in: .whitespaces)
        guard let mac = Hex.decode(trimmed), mac.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key)
    }

    /// Whether any `v1,<base64>` entry of a Standard Webhooks `webhook-signature` header matches.
    ///
    /// The header may carry several space-separated signatures (during secret rotation).
    public func isValidStandard<Body: DataProtocol>(
        signatureHeader: String, eventID: String, timestamp: Int64, body: Body
    ) -> Bool {
        var signed = Array("\(eventID).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        var valid = false
        for entry in signatureHeader.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let mac = Data(base64Encoded: String(parts[1])),
                  mac.count == SHA256.byteCount
            else { continue }
            // Keep checking every entry so that the time taken does not depend on which one matched.
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: key) {
                valid = true
            }
        }
        return valid
    }
}
