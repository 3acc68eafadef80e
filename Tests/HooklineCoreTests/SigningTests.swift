import Foundation
@testable import HooklineCore
import Testing

@Suite struct SigningTests {
    static let secret = "a1b2c3d4e5f6789012345678901234567890123456789012345678901234567890"
    static let body = Array(#"{"event":"case.created","id":"evt_test_123","timestamp":"2025-10-25T10:30:00Z","data":{"case":{"id":"case_test_123"}}}"#.utf8)

    /// Runs a command with the body on standard input and returns its standard output.
    static func run(_ arguments: [String], input: [UInt8]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var hasOpenSSL: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    @Test(.enabled(if: hasOpenSSL)) func hexSignatureEqualsOpenSSL() throws {
        // The guide's curl example: openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" | cut -d' ' -f2
        let line = try Self.run(["openssl", "dgst", "-sha256", "-hmac", Self.secret], input: Self.body)
        let expected = String(line.split(separator: " ").last!)
        let signer = WebhookSigner(secret: Self.secret)
        #expect(signer.signature(body: Self.body) == expected)
        #expect(SignatureVerifier(secret: Self.secret).isValid(signatureHex: expected, body: Self.body))
        #expect(SignatureVerifier(secret: Self.secret).isValid(signatureHex: expected.uppercased(), body: Self.body))
    }

    @Test(.enabled(if: hasOpenSSL)) func standardWebhooksSignatureEqualsOpenSSL() throws {
        let signed = Array("evt_test_123.1761388200.".utf8) + Self.body
        let base64 = try Self.run(["sh", "-c", "openssl dgst -sha256 -hmac \"$0\" -binary | base64 -w0", Self.secret], input: signed)
        let signer = WebhookSigner(secret: Self.secret)
        #expect(signer.standardSignature(eventID: "evt_test_123", timestamp: 1_761_388_200, body: Self.body) == "v1," + base64)
        let verifier = SignatureVerifier(secret: Self.secret)
        #expect(verifier.isValidStandard(signatureHeader: "v1,AAAA v1," + base64, eventID: "evt_test_123", timestamp: 1_761_388_200, body: Self.body))
        #expect(!verifier.isValidStandard(signatureHeader: "v1," + base64, eventID: "evt_test_123", timestamp: 1_761_388_201, body: Self.body))
    }

    @Test func knownVectorFromRFC4231() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let signer = WebhookSigner(secret: "Jefe")
        #expect(signer.signature(body: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func headersCarryEverySchemeAndTheSameIdAndTimestamp() {
        let headers = WebhookSigner(secret: Self.secret).headers(
            body: Self.body, eventID: "evt_test_123", eventType: "case.created", attempt: 3, timestamp: 1_761_388_200)
        let map = Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) })
        #expect(map["Content-Type"] == "application/json")
        #expect(map["User-Agent"] == "Hookline/\(HooklineVersion.current)")
        #expect(map["X-Webhook-Event"] == "case.created")
        #expect(map["X-Webhook-Id"] == "evt_test_123")
        #expect(map["webhook-id"] == "evt_test_123")
        #expect(map["X-Webhook-Attempt"] == "3")
        #expect(map["X-Webhook-Timestamp"] == "1761388200")
        #expect(map["webhook-timestamp"] == "1761388200")
        #expect(map["X-Webhook-Signature"]?.count == 64)
        #expect(map["webhook-signature"]?.hasPrefix("v1,") == true)
    }

    @Test func verifierRefusesWrongSecretTamperedBodyAndGarbage() {
        let signature = WebhookSigner(secret: Self.secret).signature(body: Self.body)
        #expect(!SignatureVerifier(secret: Self.secret + "x").isValid(signatureHex: signature, body: Self.body))
        #expect(!SignatureVerifier(secret: Self.secret).isValid(signatureHex: signature, body: Self.body + [32]))
        #expect(!SignatureVerifier(secret: Self.secret).isValid(signatureHex: "zz", body: Self.body))
        #expect(!SignatureVerifier(secret: Self.secret).isValid(signatureHex: String(signature.dropLast(2)), body: Self.body))
        #expect(!SignatureVerifier(secret: Self.secret).isValid(signatureHex: "", body: Self.body))
    }

    @Test func generatedSecretsAreThirtyTwoRandomBytesInHex() throws {
        let a = Secret.generate(), b = Secret.generate()
        #expect(a.count == 64 && a != b)
        #expect(a.allSatisfy { "0123456789abcdef".contains($0) })
        try Secret.validate(a)
        #expect(Secret.mask(a) == "••••" + a.suffix(4))
        #expect(!Secret.mask(a).contains(a.prefix(8)))
    }

    @Test(arguments: ["", "short", String(repeating: "x", count: 23), String(repeating: "x", count: 30) + " y"])
    func weakSecretsAreRefused(_ secret: String) {
        #expect(throws: HooklineError.self) { try Secret.validate(secret) }
    }
}
