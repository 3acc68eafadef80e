import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTPS receiver on 127.0.0.1 with a certificate from ``TestCertificates``: answers every
/// request 200 and records each request's `Host` and the server name the client sent (SNI).
public final class TLSReceiver: Sendable {
    public struct Seen: Sendable, Hashable {
        public var serverName: String?
        public var host: String?
        public var path: String

        public init(serverName: String?, host: String?, path: String) {
            self.serverName = serverName
            self.host = host
            self.path = path
        }
    }

    public let port: Int
    private let channel: any Channel
    private let record = Record()

    /// What the handshakes and requests showed, shared with the connections' handlers.
    final class Record: Sendable {
        let seen = Mutex<[Seen]>([])
        let names = Mutex<[String?]>([])
    }

    public init(certificates: TestCertificates) async throws {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificates.certificate)], privateKey: .privateKey(certificates.key))
        let record = self.record
        configuration.sslContextCallback = { values, promise in
            record.names.withLock { $0.append(values.serverHostname) }
            promise.succeed(NIOSSLContextConfigurationOverride())
        }
        let context = try NIOSSLContext(configuration: configuration)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(NIOSSLServerHandler(context: context))
                    try operations.configureHTTPServerPipeline()
                    try operations.addHandler(Answer(record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// What arrived, in order.
    public var seen: [Seen] { record.seen.withLock { $0 } }

    public func stop() async {
        try? await channel.close()
    }

    private final class Answer: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let record: Record
        var head: HTTPRequestHead?

        init(record: Record) {
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                let serverName = record.names.withLock { $0.last ?? nil }
                record.seen.withLock { $0.append(Seen(serverName: serverName, host: head.headers.first(name: "host"), path: head.uri)) }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "2")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: "ok")))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
