import HooklineCore
import Synchronization

/// A real transport whose first `failing` requests fail as if Hookline's process had run out of
/// file descriptors, before any of them reaches the network.
public final class LocalFaultTransport: HTTPTransport {
    public let inner: any HTTPTransport
    private let left: Mutex<Int>

    public init(_ inner: any HTTPTransport, failing: Int) {
        self.inner = inner
        left = Mutex(failing)
    }

    public func send(_ request: OutboundRequest) async -> TransportOutcome {
        let fail = left.withLock { left in
            defer { left -= 1 }
            return left > 0
        }
        if fail { return .failure(.local, "Hookline could not open a connection: Too many open files", durationMs: 0) }
        return await inner.send(request)
    }
}
