import ArgumentParser
import Foundation
import HooklineCore
import HooklineServer
import Logging

struct ReceiveCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Run a development receiver that checks signatures as the guide's handlers do.",
        discussion: """
            Answers 400 {"error":"Missing signature"}, 401 {"error":"Invalid signature"} or 200 {"received":true}, \
            and prints one line per request. The secret may also come from $CHURN_SAVER_WEBHOOK_SECRET.
            """)

    @Option(help: "Port to listen on (0 picks a free one).") var port = 3000
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "The endpoint secret (default: $CHURN_SAVER_WEBHOOK_SECRET).") var secret: String?
    @Option(help: "The path that takes the POSTs.") var path = "/webhooks/churn-saver"

    func execute() async throws {
        guard (0...65_535).contains(port) else {
            throw HooklineError.invalidInput("--port must be between 0 and 65535, not \(port).")
        }
        guard path.hasPrefix("/") else {
            throw HooklineError.invalidInput("--path must start with '/', as in /webhooks/churn-saver.")
        }
        let secret = self.secret ?? ProcessInfo.processInfo.environment["CHURN_SAVER_WEBHOOK_SECRET"]
        guard let secret, !secret.isEmpty else {
            throw HooklineError.invalidInput("Give the endpoint's secret with --secret or $CHURN_SAVER_WEBHOOK_SECRET; `hookline endpoint show ID --reveal-secret` prints it.")
        }
        let receiver = WebhookReceiver(host: host, port: port, path: path, secret: secret)
        var logger = Logger(label: "hookline.receive")
        logger.logLevel = .warning
        try await receiver.run(
                logger: logger,
                onListening: { port in
                    Output.immediate("Listening on http://\(receiver.host):\(port)\(receiver.path)")
                },
                onRequest: { received in
                    Output.immediate(received.line)
                })
    }
}
