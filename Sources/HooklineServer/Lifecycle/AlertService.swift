import HooklineCore
import HooklineHTTP
import ServiceLifecycle

/// The alert notifier as a service. On graceful shutdown it posts what is still queued (grouped
/// failures at once) for at most ``flushLimit``, then closes its own transport. It shuts down
/// after the dispatcher, so that the notices of the dispatcher's last moments are posted too.
public struct AlertService: Service {
    public let notifier: AlertNotifier
    public let transport: NIOHTTPTransport
    public var flushLimit: Duration

    public init(_ notifier: AlertNotifier, transport: NIOHTTPTransport, flushLimit: Duration = .seconds(30)) {
        self.notifier = notifier
        self.transport = transport
        self.flushLimit = flushLimit
    }

    public func run() async {
        let notifier = self.notifier, flushLimit = self.flushLimit
        let posting = Task { await notifier.run() }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await posting.value
            } onCancel: {
                posting.cancel()
            }
        } onGracefulShutdown: {
            notifier.finish()
            Task {
                try? await Task.sleep(for: flushLimit)
                posting.cancel()
            }
        }
        await transport.shutdown()
    }
}
