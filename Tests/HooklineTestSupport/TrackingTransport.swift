import HooklineCore
import Synchronization

/// A real transport, counting what goes through it: how many requests were sent and how many got
/// an answer.
public final class TrackingTransport: HTTPTransport {
    public let inner: any HTTPTransport
    private let counts = Mutex((sent: 0, answered: 0))

    public init(_ inner: any HTTPTransport) { self.inner = inner }

    /// Requests handed to the transport.
    public var sent: Int { counts.withLock { $0.sent } }
    /// Requests that got an HTTP answer (a connection that fails before the request reaches the
    /// receiver has none, and the receiver never sees it).
    public var answered: Int { counts.withLock { $0.answered } }
    public func send(_ request: OutboundRequest) async -> TransportOutcome {
        counts.withLock { $0.sent += 1 }
        let outcome = await inner.send(request)
        if outcome.statusCode != nil { counts.withLock { $0.answered += 1 } }
        return outcome
    }
}
