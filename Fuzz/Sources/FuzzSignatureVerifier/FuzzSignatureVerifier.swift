// libFuzzer target: the receiver-side signature checks and the signer.
//
// Input layout: byte 0 = secret length, byte 1 = header length, then the secret, the header
// (tried both as an `X-Webhook-Signature` and as a Standard Webhooks `webhook-signature` value),
// and the rest is the body. Lengths are cut to what is there.
//
// Checks:
// - verifying any header against any body never crashes, and a header that verifies is the
//   signature itself (no forgery: it decodes to the HMAC the signer computes);
// - the signer's signature for the body verifies (also upper-cased and padded with spaces, as
//   documented), for both schemes, also next to another entry in the Standard header;
// - a copy with one byte changed (of the signature, or of the body) does not verify.

import Foundation
import CLibFuzzer
import HooklineCore

/// The entry point: hands the command line to libFuzzer, which then calls `fuzz` for every input.
@main
enum Driver {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzz))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard input.count >= 2 else { return 0 }
    var offset = 2
    func take(_ wanted: Int) -> [UInt8] {
        let count = min(wanted, input.count - offset)
        defer { offset += count }
        return Array(input[offset..<offset + count])
    }
    let secret = String(decoding: take(Int(input[0])), as: UTF8.self)
    let header = String(decoding: take(Int(input[1])), as: UTF8.self)
    let body = Array(input[offset...])

    let signer = WebhookSigner(secret: secret)
    let verifier = SignatureVerifier(secret: secret)
    let eventID = "evt_fuzz_\(body.count)"
    let timestamp: Int64 = 1_761_388_200 + Int64(input[0]) - Int64(input[1])

    // Arbitrary headers: no crash, and no acceptance of anything but the real signature.
    let expected = signer.signature(body: body)
    if verifier.isValid(signatureHex: header, body: body) {
        let presented = header.trimmingCharacters(in: .whitespaces).lowercased()
        guard presented == expected else { fatalError("forged X-Webhook-Signature accepted: \(header.debugDescription)") }
    }
    let standard = signer.standardSignature(eventID: eventID, timestamp: timestamp, body: body)
    if verifier.isValidStandard(signatureHeader: header, eventID: eventID, timestamp: timestamp, body: body) {
        let entries = header.split(separator: " ").compactMap { entry -> Data? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1]))
        }
        guard entries.contains(Data(base64Encoded: String(standard.dropFirst(3)))!) else {
            fatalError("forged webhook-signature accepted: \(header.debugDescription)")
        }
    }
    _ = Hex.decode(header)
    _ = try? Secret.validate(secret)
    _ = Secret.mask(secret)

    // The real signatures verify.
    guard verifier.isValid(signatureHex: expected, body: body),
          verifier.isValid(signatureHex: expected.uppercased(), body: body),
          verifier.isValid(signatureHex: " \(expected) ", body: body)
    else { fatalError("a signature made by WebhookSigner does not verify (secret \(secret.debugDescription))") }
    guard verifier.isValidStandard(signatureHeader: standard, eventID: eventID, timestamp: timestamp, body: body),
          verifier.isValidStandard(signatureHeader: "v1,AAAA \(standard)", eventID: eventID, timestamp: timestamp, body: body)
    else { fatalError("a Standard Webhooks signature made by WebhookSigner does not verify") }

    // One byte changed: in the hex signature…
    var hex = Array(expected.utf8)
    let position = (Int(input[0]) &+ body.count) % hex.count
    hex[position] = hex[position] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    guard !verifier.isValid(signatureHex: String(decoding: hex, as: UTF8.self), body: body) else {
        fatalError("a signature with one byte changed still verifies")
    }
    // …in the base64 signature (not its last characters, whose low bits may be ignored)…
    var base64 = Array(standard.utf8)
    let at = 3 + (Int(input[1]) &+ body.count) % 40
    base64[at] = base64[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    guard !verifier.isValidStandard(
        signatureHeader: String(decoding: base64, as: UTF8.self), eventID: eventID, timestamp: timestamp, body: body)
    else { fatalError("a Standard Webhooks signature with one byte changed still verifies") }
    // …and in the body.
    if !body.isEmpty {
        var tampered = body
        let index = Int(input[1]) % tampered.count
        tampered[index] ^= 0x01
        guard !verifier.isValid(signatureHex: expected, body: tampered),
              !verifier.isValidStandard(signatureHeader: standard, eventID: eventID, timestamp: timestamp, body: tampered)
        else { fatalError("a signature still verifies for a body with one byte changed") }
    }
    return 0
}
