import HooklineCore
import NIOCore
import NIOHTTP1

/// What an exchange brought back: the status, the headers the policy reads, and at most
/// ``responseExcerptLimit`` bytes of the body.
struct Exchanged: Sendable {
    var status: Int
    var retryAfter: String?
    var location: String?
    var excerpt: [UInt8]
    /// Whether the connection may carry another request (the whole body was read, and neither
    /// side asked to close).
    var reusable: Bool
}

/// One request to send on a connection, with the promise its response completes.
struct Exchange {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var deadline: NIODeadline
    var promise: EventLoopPromise<Exchanged>
}

/// The last handler of a connection's pipeline: sends one request at a time and reads its
/// response, keeping only the excerpt. A body past the excerpt is not read: the response is
/// complete for the attempt, and the connection closes (a 10 MB or endless body costs 16 KiB).
/// An event-loop timer ends the exchange at its deadline, whatever the peer does.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var promise: EventLoopPromise<Exchanged>?
    private var response: Exchanged?
    private var timer: Scheduled<Void>?
    private var requestKeepAlive = true
    /// An error that came while no exchange was running (a TLS handshake that failed before the
    /// first request was handed over): the next exchange reports it, not a bare close.
    private var earlierError: (any Error)?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(HTTPTransportError.closedBeforeResponse(receivedAny: response != nil))
        self.context = nil
    }

    /// Starts an exchange; called on the channel's event loop.
    func begin(_ exchange: Exchange) {
        guard let context, context.channel.isActive, earlierError == nil else {
            exchange.promise.fail(earlierError ?? HTTPTransportError.closedBeforeResponse(receivedAny: false))
            return
        }
        guard promise == nil else {
            exchange.promise.fail(HTTPTransportError.closedBeforeResponse(receivedAny: false))
            return
        }
        promise = exchange.promise
        response = nil
        requestKeepAlive = exchange.head.isKeepAlive
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: exchange.deadline) { [self] in
            timer = nil
            fail(HTTPTransportError.responseTimedOut)
            self.context?.close(promise: nil)
        }
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else {
            // Nothing was asked: a peer that talks out of turn loses the connection.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = Exchanged(
                status: Int(head.status.code), retryAfter: head.headers.first(name: "retry-after"),
                location: head.headers.first(name: "location"), excerpt: [], reusable: head.isKeepAlive && requestKeepAlive)
        case .body(let chunk):
            guard var partial = response else { return }
            let room = responseExcerptLimit - partial.excerpt.count
            if partial.excerpt.isEmpty && chunk.readableBytes <= room {
                partial.excerpt = Array(chunk.readableBytesView)
            } else {
                partial.excerpt.append(contentsOf: chunk.readableBytesView.prefix(room))
            }
            if partial.excerpt.count >= responseExcerptLimit && chunk.readableBytes > room {
                // More than the excerpt: enough for the attempt, and the rest is not read.
                partial.reusable = false
                succeed(partial)
                context.close(promise: nil)
            } else {
                response = partial
            }
        case .end:
            if let complete = response { succeed(complete) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTPTransportError.closedBeforeResponse(receivedAny: response != nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if promise == nil, earlierError == nil { earlierError = error }
        fail(error)
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, promise == nil {
            // Idle past the pool's idle timeout: closed, and the pool forgets it.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func succeed(_ exchanged: Exchanged) {
        endExchange()?.succeed(exchanged)
    }

    private func fail(_ error: any Error) {
        endExchange()?.fail(error)
    }

    /// Stops the deadline timer and forgets the exchange; returns its promise, if one was running.
    private func endExchange() -> EventLoopPromise<Exchanged>? {
        timer?.cancel()
        timer = nil
        let promise = self.promise
        self.promise = nil
        response = nil
        return promise
    }
}
