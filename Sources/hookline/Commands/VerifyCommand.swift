import ArgumentParser
import Foundation
import HooklineCore

struct VerifyCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an X-Webhook-Signature against a payload; exit 0 when valid, 1 when not.",
        discussion: "Example: hookline verify --secret \"$SECRET\" --signature \"$SIG\" --payload @body.json")

    @Option(help: "The endpoint secret.") var secret: String
    @Option(help: ArgumentHelp("The hex signature (the X-Webhook-Signature value).", valueName: "hex")) var signature: String
    @Option(help: ArgumentHelp("The exact body: inline, @FILE, or - for standard input.", valueName: "payload"))
    var payload = "-"

    func execute() async throws {
        guard !secret.isEmpty else { throw HooklineError.invalidInput("The secret is empty; pass the endpoint's secret with --secret.") }
        let trimmed = signature.trimmingCharacters(in: .whitespaces)
        guard let bytes = Hex.decode(trimmed), bytes.count == 32 else {
            throw HooklineError.invalidInput("The signature must be 64 hex characters (an HMAC-SHA256), not '\(Output.clip(signature, 80))'.")
        }
        let body = try InputSource.read(payload, what: "--payload")
        let verifier = SignatureVerifier(secret: secret)
        if verifier.isValid(signatureHex: trimmed, body: body) {
            Output.line("valid: the signature matches the \(body.count)-byte payload")
            return
        }
        var hint = ""
        if let canonical = try? JSONValue.parse(body).canonicalBytes, canonical != body,
           verifier.isValid(signatureHex: trimmed, body: canonical) {
            hint = "; it does match the compact JSON form of the payload, so the bytes were reformatted on the way"
        }
        Output.error("invalid: the signature does not match the \(body.count)-byte payload with this secret\(hint).")
        throw ExitCode(1)
    }
}
