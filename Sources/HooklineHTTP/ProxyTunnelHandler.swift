import NIOCore

/// Opens a CONNECT tunnel through an egress proxy on a fresh connection, then removes itself: what
/// follows (TLS, then HTTP) runs end to end with the receiver.
final class ProxyTunnelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let authority: String
    private let authorization: String?
    private let proxy: String
    private let deadline: NIODeadline
    private var promise: EventLoopPromise<Void>?
    private var received = ByteBuffer()
    private var timer: Scheduled<Void>?
    /// A proxy's answer to CONNECT is a few hundred bytes; more without an end is not HTTP.
    private static let headLimit = 16 * 1024

    init(authority: String, authorization: String?, proxy: String, deadline: NIODeadline, promise: EventLoopPromise<Void>) {
        self.authority = authority
        self.authorization = authorization
        self.proxy = proxy
        self.deadline = deadline
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            finish(context: context, .failure(HTTPTransportError.connectTimedOut(target: "the egress proxy \(proxy)")))
        }
        var request = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n"
        if let authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        let view = received.readableBytesView
        guard Self.hasEndOfHead(view) else {
            if received.readableBytes > Self.headLimit { finish(context: context, .failure(HTTPTransportError.proxyBroken(proxy: proxy))) }
            return
        }
        let statusLine = String(decoding: view.prefix(while: { $0 != UInt8(ascii: "\r") }), as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            finish(context: context, .failure(HTTPTransportError.proxyBroken(proxy: proxy)))
            return
        }
        guard (200..<300).contains(status) else {
            finish(context: context, .failure(HTTPTransportError.proxyRefused(proxy: proxy, status: status)))
            return
        }
        finish(context: context, .success(()))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context, .failure(HTTPTransportError.proxyBroken(proxy: proxy)))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context: context, .failure(error))
    }

    private func finish(context: ChannelHandlerContext, _ result: Result<Void, any Error>) {
        timer?.cancel()
        timer = nil
        guard let promise else { return }
        self.promise = nil
        switch result {
        case .success:
            // The receiver speaks only after the client's first TLS or HTTP bytes: nothing follows
            // the proxy's answer yet, and the handlers for the tunnel go in once this one is out.
            received = ByteBuffer()
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            promise.succeed(())
        case .failure(let error):
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    /// Whether the blank line that ends the proxy's response head has arrived.
    static func hasEndOfHead(_ bytes: ByteBufferView) -> Bool {
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 { return true }
            index += 1
        }
        return false
    }
}
