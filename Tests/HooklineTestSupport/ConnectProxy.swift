import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A small egress proxy on 127.0.0.1, as Smokescreen or Squid would be: `CONNECT host:port` opens
/// a tunnel, a request in absolute form (`POST http://host:port/path`) is passed on in origin form.
/// It resolves names only from its own table, records each request line, and refuses (403) the
/// hosts it is told to. Once a client connection is joined to a receiver it stays joined, which
/// is all a test with one receiver per proxy connection needs.
public final class ConnectProxy: Sendable {
    public let port: Int
    private let channel: any Channel
    private let record = Record()

    final class Record: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// - Parameters:
    ///   - hosts: host name → address, for the names the proxy may be asked to reach.
    ///   - refused: hosts the proxy answers 403 for.
    public init(hosts: [String: String] = [:], refused: Set<String> = []) async throws {
        let record = self.record
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Front(record: record, hosts: hosts, refused: refused))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// `http://127.0.0.1:PORT`, for `--proxy`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The request lines received (`CONNECT hooks.test:443 HTTP/1.1`, `POST http://… HTTP/1.1`).
    public var requestLines: [String] { record.lines.withLock { $0 } }

    public func stop() async {
        try? await channel.close()
    }

    /// Reads the first request head, then joins the client to the receiver it names.
    private final class Front: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let record: Record
        let hosts: [String: String]
        let refused: Set<String>
        var buffered = ByteBuffer()
        var upstream: (any Channel)?
        var connecting = false

        init(record: Record, hosts: [String: String], refused: Set<String>) {
            self.record = record
            self.hosts = hosts
            self.refused = refused
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            buffered.writeBuffer(&chunk)
            guard !connecting else { return }
            let text = String(buffer: buffered)
            guard let headEnd = text.range(of: "\r\n\r\n") else { return }
            let line = String(text[..<(text.range(of: "\r\n")?.lowerBound ?? headEnd.lowerBound)])
            record.lines.withLock { $0.append(line) }
            let parts = line.split(separator: " ")
            guard parts.count == 3 else { return answer(context, "400 Bad Request") }
            let method = String(parts[0])
            let tunnel = method == "CONNECT"
            var authority = String(parts[1])
            var originLine = line
            if !tunnel {
                guard authority.hasPrefix("http://") else { return answer(context, "400 Bad Request") }
                let rest = authority.dropFirst("http://".count)
                let slash = rest.firstIndex(of: "/") ?? rest.endIndex
                authority = String(rest[..<slash])
                let path = slash == rest.endIndex ? "/" : String(rest[slash...])
                originLine = "\(method) \(path) \(parts[2])"
            }
            let colon = authority.lastIndex(of: ":")
            let host = colon.map { String(authority[..<$0]) } ?? authority
            let port = colon.flatMap { Int(authority[authority.index(after: $0)...]) } ?? 80
            guard !refused.contains(host) else { return answer(context, "403 Forbidden") }
            let address = hosts[host] ?? host
            connecting = true
            let client = context.channel
            let connected = ClientBootstrap(group: context.eventLoop)
                .channelInitializer { upstream in
                    upstream.eventLoop.makeCompletedFuture { try upstream.pipeline.syncOperations.addHandler(Glue(partner: client)) }
                }
                .connect(host: address, port: port)
            connected.assumeIsolated().whenComplete { [self] result in
                switch result {
                case .failure:
                    answer(context, "502 Bad Gateway")
                case .success(let upstream):
                    self.upstream = upstream
                    if tunnel {
                        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "HTTP/1.1 200 Connection Established\r\n\r\n")), promise: nil)
                    } else {
                        // Everything read so far, the request line in origin form.
                        let received = String(buffer: buffered)
                        let forwarded = originLine + received[(received.range(of: "\r\n")?.lowerBound ?? received.startIndex)...]
                        upstream.writeAndFlush(upstream.allocator.buffer(string: forwarded), promise: nil)
                    }
                    buffered = ByteBuffer()
                    let operations = context.pipeline.syncOperations
                    try? operations.addHandler(Glue(partner: upstream), position: .after(self))
                    operations.removeHandler(self, promise: nil)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            upstream?.close(promise: nil)
            context.fireChannelInactive()
        }

        private func answer(_ context: ChannelHandlerContext, _ status: String) {
            let response = "HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// Passes bytes on to the other side, and closes it when this side closes.
    private final class Glue: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let partner: any Channel

        init(partner: any Channel) {
            self.partner = partner
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
