import ArgumentParser
import Foundation
import HooklineCore
import HooklineHTTP

extension EndpointCommand {
    struct Test: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a signed example event to an endpoint now, outside the queue and the breaker.",
            discussion: """
                The catalog's example payload of the type goes out with a fresh event id, signed with the endpoint's \
                secret exactly as a delivery is. Nothing is queued: the test shows in the endpoint's history, not among \
                the events. Exits 0 when the receiver answers 2xx, 1 otherwise, with what to check.
                """)

        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Option(help: ArgumentHelp("The event type whose example is sent (see `hookline catalog`).", valueName: "type"))
        var event = "case.created"
        @Option(help: ArgumentHelp("Whole-request time limit.", valueName: "duration"))
        var timeout = "15s"
        @Flag(name: .customLong("allow-private-networks"), help: "Allow loopback, private and link-local addresses.")
        var allowPrivateNetworks = false
        @OptionGroup var proxy: ProxyOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            guard let seconds = DurationText.parse(timeout), seconds > 0, seconds <= 300 else {
                throw HooklineError.invalidInput("--timeout '\(timeout)' must be a duration above 0 and at most 5m, such as 15s.")
            }
            let egress = try proxy.egressProxy()
            let operations = try await store.operations(creating: false)
            let transport = NIOHTTPTransport(
                networkGuard: NetworkGuard(allowPrivateNetworks: allowPrivateNetworks), connectionsPerHost: 1, proxy: egress)
            let send: TestSend
            do {
                send = try await operations.sendTest(endpointID: id, eventType: event, transport: transport, timeout: seconds)
            } catch {
                await transport.shutdown()
                throw error
            }
            await transport.shutdown()
            if output.json {
                Output.json(JSONRendering.testSend(send))
            } else {
                print(send)
            }
            if !send.succeeded { throw ExitCode(1) }
        }

        func print(_ send: TestSend) {
            Output.line("Sent \(send.eventType) \(send.eventID) to \(send.endpointID) (trigger test).")
            if send.succeeded {
                Output.line("The receiver answered HTTP \(send.statusCode ?? 0) in \(send.durationMs) ms.")
            } else {
                let problem = send.errorMessage ?? send.errorClass ?? "failed"
                Output.line("Failed after \(send.durationMs) ms: \(Output.printable(problem)).")
            }
            if let excerpt = send.responseExcerpt, !excerpt.isEmpty {
                Output.line("Response: \(Output.printable(Output.clip(excerpt, 500)))")
            }
            if let advice = send.advice { Output.line(advice) }
            if send.errorClass == AttemptErrorClass.refusedPrivate.rawValue {
                Output.line("Pass --allow-private-networks (here and to serve) to deliver to it.")
            }
        }
    }
}
