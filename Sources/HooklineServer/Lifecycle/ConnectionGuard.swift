import HummingbirdCore
import Logging
import Metrics
import NIOCore
import Synchronization

/// Limits what a client can hold of the ingest server: how many connections are open at once and
/// how long one request may take to arrive.
///
/// The first handler of every accepted connection, so that it sees raw bytes: a request starts
/// with its first byte and is read once the server starts answering it. A request not read within
/// ``Limits/readTimeout`` (headers and body together, however slowly they trickle in) is answered
/// `408` and its connection closed; a connection beyond ``Limits/maximumConnections`` is closed at
/// once and counted in `hookline_api_connections_refused_total`. Idle keep-alive connections are
/// closed by the HTTP channel's idle timeout.
public final class ConnectionGuard: Sendable {
    /// The limits; `serve` takes them from its settings.
    public struct Limits: Sendable, Hashable {
        public var maximumConnections: Int
        public var readTimeout: Duration
        public var idleTimeout: Duration

        public init(maximumConnections: Int = 4096, readTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(75)) {
            self.maximumConnections = maximumConnections
            self.readTimeout = readTimeout
            self.idleTimeout = idleTimeout
        }
    }

    public let limits: Limits
    let open = Atomic<Int>(0)
    let logger: Logger

    public init(limits: Limits, logger: Logger = Logger(label: "hookline.api")) {
        self.limits = limits
        self.logger = logger
    }

    /// Connections open now.
    public var openConnections: Int { open.load(ordering: .relaxed) }

    /// An HTTP/1 server whose every connection passes this guard first: for `Application(server:)`.
    public func http1() -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GuardedChannel(
                inner: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: TimeAmount(self.limits.idleTimeout))),
                connectionGuard: self)
        }
    }

    /// HTTP/1 behind the guard's handler.
    struct GuardedChannel: ServerChildChannel {
        let inner: HTTP1Channel
        let connectionGuard: ConnectionGuard

        func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
            do {
                try channel.pipeline.syncOperations.addHandler(Handler(owner: connectionGuard))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
            return inner.setup(channel: channel, logger: logger)
        }

        func handle(value: HTTP1Channel.Value, logger: Logger) async {
            await inner.handle(value: value, logger: logger)
        }
    }

    /// Whether a new connection may stay; counts it when it may.
    func admit() -> Bool {
        let (_, now) = open.add(1, ordering: .relaxed)
        Gauge(label: "hookline_api_open_connections").record(now)
        guard now <= limits.maximumConnections else {
            open.subtract(1, ordering: .relaxed)
            Counter(label: "hookline_api_connections_refused_total").increment()
            logger.info("connection refused", metadata: ["api.connections.maximum": "\(limits.maximumConnections)"])
            return false
        }
        return true
    }

    func release() {
        let (_, now) = open.subtract(1, ordering: .relaxed)
        Gauge(label: "hookline_api_open_connections").record(now)
    }

    /// The per-connection half of the guard; lives on the connection's event loop.
    final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let owner: ConnectionGuard
        private var admitted = false
        private var deadline: Scheduled<Void>?

        init(owner: ConnectionGuard) {
            self.owner = owner
        }

        func channelActive(context: ChannelHandlerContext) {
            admitted = owner.admit()
            context.fireChannelActive()
            if !admitted { context.close(promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            deadline?.cancel()
            deadline = nil
            if admitted {
                admitted = false
                owner.release()
            }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard admitted else { return }
            if deadline == nil {
                // The first byte of a request: the whole of it must arrive before the deadline.
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                deadline = context.eventLoop.scheduleTask(in: TimeAmount(owner.limits.readTimeout)) {
                    let (handler, context) = loopBound.value
                    handler.timedOut(context: context)
                }
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            // The server answers: the request was read, and the next one starts its own deadline.
            deadline?.cancel()
            deadline = nil
            context.write(data, promise: promise)
        }

        private func timedOut(context: ChannelHandlerContext) {
            deadline = nil
            owner.logger.info("request read timed out", metadata: ["api.read_timeout": "\(owner.limits.readTimeout)"])
            Counter(label: "hookline_api_read_timeouts_total").increment()
            let answer = "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: answer)), promise: nil)
            context.close(promise: nil)
        }
    }
}
