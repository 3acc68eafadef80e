import Foundation
import HooklineCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The real transport: an HTTP/1.1 client on SwiftNIO made for this one job.
///
/// - Connects to the addresses the SSRF guard vetted (one resolution per connection: a rebinding
///   DNS server gets no second question), while TLS checks the certificate against the URL's host
///   and sends it as SNI, and `Host` is the URL's host.
/// - Keeps connections alive, pooled per origin, and reuses them across deliveries; a pooled
///   connection the receiver closed meanwhile is replaced once, before any response.
/// - Never follows redirects; reads at most ``responseExcerptLimit`` bytes of a body (a longer one
///   ends the connection); ends every exchange at its deadline with an event-loop timer.
/// - Optionally sends everything through an ``EgressProxy``.
public final class NIOHTTPTransport: HTTPTransport {
    private let group: any EventLoopGroup
    private let networkGuard: NetworkGuard
    private let connectTimeout: TimeAmount
    private let proxy: EgressProxy?
    private let tls: Result<NIOSSLContext, any Error>
    private let pool: ConnectionPool
    private let idleTimeout: TimeAmount
    private let targets = Mutex<[String: Target]>([:])
    /// Parsed URLs kept; beyond this many the cache starts again (endpoints are few per process
    /// compared with requests, and a parse costs more than the lookup).
    private static let targetCacheLimit = 4096

    /// - Parameters:
    ///   - connectionsPerHost: connections open at most per origin (the per-endpoint concurrency,
    ///     or more when several endpoints share a host); a request beyond them waits for one.
    ///   - proxy: the egress proxy every request goes through, if any.
    ///   - tlsConfiguration: the client TLS settings (the system's trust roots unless a test
    ///     trusts its own authority).
    public init(
        networkGuard: NetworkGuard, connectTimeout: TimeInterval = 5, connectionsPerHost: Int = 8,
        proxy: EgressProxy? = nil, tlsConfiguration: TLSConfiguration = .makeClientConfiguration(),
        idleTimeout: TimeInterval = 60, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.group = group
        self.networkGuard = networkGuard
        self.connectTimeout = .nanoseconds(Int64(connectTimeout * 1_000_000_000))
        self.proxy = proxy
        self.tls = Result { try NIOSSLContext(configuration: tlsConfiguration) }
        self.pool = ConnectionPool(limit: connectionsPerHost)
        self.idleTimeout = .nanoseconds(Int64(idleTimeout * 1_000_000_000))
    }

    /// Closes pooled connections; call once, when the dispatcher has stopped.
    public func shutdown() async {
        for connection in pool.shutDown() {
            try? await connection.channel.close()
        }
    }

    /// Connections open, for tests and benchmarks.
    public var openConnections: Int { pool.counts.open }

    public func send(_ request: OutboundRequest) async -> TransportOutcome {
        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(request.timeout * 1_000_000_000))
        let elapsed = { Int((NIODeadline.now() - start).nanoseconds / 1_000_000) }
        guard let target = target(for: request.url) else {
            return .failure(.invalidURL, "\(request.url) is not a valid http:// or https:// URL", durationMs: 0)
        }
        let route: Route
        if proxy == nil {
            route = .direct(host: target.host, port: target.port, tls: target.tls)
        } else if target.tls {
            route = .tunnel(host: target.host, port: target.port)
        } else {
            // One connection to the proxy carries requests for any host: each is vetted here.
            if case .failure(let refusal) = await networkGuard.check(host: target.host) {
                return .failure(refusal.errorClass, refusal.message, durationMs: elapsed())
            }
            route = .proxied
        }
        let head = self.head(for: request, target: target, route: route)
        let body = ByteBuffer(bytes: request.body)
        while true {
            let connection: PooledConnection
            let reused: Bool
            switch await pool.checkout(route, deadline: deadline, on: group.any()) {
            case .reuse(let pooled):
                connection = pooled
                reused = true
            case .connect:
                do {
                    connection = try await open(route, target: target, deadline: deadline)
                } catch {
                    pool.release(route)
                    let (errorClass, message) = Self.classify(error, timeout: request.timeout)
                    return .failure(errorClass, message, durationMs: elapsed())
                }
                reused = false
            case .timedOut:
                return .failure(.timeout, "no connection to \(target.authority) became free within \(DurationText.format(request.timeout))", durationMs: elapsed())
            case .shutDown:
                return .failure(.network, HTTPTransportError.shutDown.description, durationMs: elapsed())
            }
            do {
                let exchanged = try await exchange(on: connection, head: head, body: body, deadline: deadline)
                if exchanged.reusable {
                    pool.checkin(connection)
                } else {
                    pool.retire(connection)
                    connection.channel.close(promise: nil)
                }
                var headers: [String: String] = [:]
                if let retryAfter = exchanged.retryAfter { headers["retry-after"] = retryAfter }
                if let location = exchanged.location { headers["location"] = location }
                return TransportOutcome(statusCode: exchanged.status, headers: headers, bodyExcerpt: exchanged.excerpt, durationMs: elapsed())
            } catch {
                pool.retire(connection)
                connection.channel.close(promise: nil)
                // A kept-alive connection the receiver closed while it sat idle: nothing of this
                // request was answered, so it goes once more on a fresh connection.
                if reused, Self.isStale(error), NIODeadline.now() < deadline { continue }
                let (errorClass, message) = Self.classify(error, timeout: request.timeout)
                return .failure(errorClass, message, durationMs: elapsed())
            }
        }
    }

    // MARK: Requests

    /// A URL taken apart once: what a request needs of it.
    struct Target: Sendable {
        var tls: Bool
        var host: String
        var port: Int
        /// `host` or `host:port` (brackets around an IPv6 address), for `Host` and CONNECT.
        var authority: String
        /// `host:port` always, as CONNECT names its target.
        var tunnelAuthority: String
        /// Path and query, percent-encoded as given; `/` for none.
        var path: String
        /// The whole URL without user information, for a proxy's absolute form.
        var absolute: String
    }

    func target(for url: String) -> Target? {
        if let known = targets.withLock({ $0[url] }) { return known }
        guard let parsed = Self.parse(url) else { return nil }
        targets.withLock { cache in
            if cache.count >= Self.targetCacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[url] = parsed
        }
        return parsed
    }

    static func parse(_ url: String) -> Target? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let tls = scheme == "https"
        let defaultPort = tls ? 443 : 80
        let port = components.port ?? defaultPort
        guard (1...65535).contains(port) else { return nil }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let authority = port == defaultPort ? shownHost : "\(shownHost):\(port)"
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        return Target(
            tls: tls, host: host, port: port, authority: authority, tunnelAuthority: "\(shownHost):\(port)", path: path,
            absolute: "\(scheme)://\(authority)\(path)")
    }

    func head(for request: OutboundRequest, target: Target, route: Route) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 3)
        headers.add(name: "Host", value: target.authority)
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Length", value: String(request.body.count))
        var uri = target.path
        if route == .proxied {
            uri = target.absolute
            if let authorization = proxy?.authorization { headers.add(name: "Proxy-Authorization", value: authorization) }
        }
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers)
    }

    func exchange(on connection: PooledConnection, head: HTTPRequestHead, body: ByteBuffer, deadline: NIODeadline) async throws -> Exchanged {
        let eventLoop = connection.channel.eventLoop
        let promise = eventLoop.makePromise(of: Exchanged.self)
        let exchange = Exchange(head: head, body: body, deadline: deadline, promise: promise)
        let handler = connection.handler
        eventLoop.execute { handler.value.begin(exchange) }
        return try await promise.futureResult.get()
    }

    // MARK: Connections

    /// Opens a connection for `route`: vets the receiver's host, connects (to the vetted address,
    /// or to the proxy), tunnels when asked, then sets up TLS and HTTP.
    func open(_ route: Route, target: Target, deadline: NIODeadline) async throws -> PooledConnection {
        let channel: any Channel
        switch route {
        case .direct(let host, let port, _):
            let addresses = try await networkGuard.check(host: host).get()
            channel = try await connect(to: addresses, port: port, label: nil, deadline: deadline)
        case .proxied:
            channel = try await connectToProxy(deadline: deadline)
        case .tunnel(let host, _):
            _ = try await networkGuard.check(host: host).get()
            channel = try await connectToProxy(deadline: deadline)
            let tunnelled = channel.eventLoop.makePromise(of: Void.self)
            let proxy = self.proxy
            let authority = target.tunnelAuthority
            do {
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(ProxyTunnelHandler(
                        authority: authority, authorization: proxy?.authorization, proxy: proxy?.description ?? "",
                        deadline: deadline, promise: tunnelled))
                }.get()
                try await tunnelled.futureResult.get()
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
        let id = pool.nextID()
        let tlsHost: String? = target.tls ? target.host : nil
        let context: NIOSSLContext?
        do {
            context = target.tls ? try tls.get() : nil
        } catch {
            channel.close(promise: nil)
            throw error
        }
        let idleTimeout = self.idleTimeout
        let handler: NIOLoopBound<ExchangeHandler>
        do {
            handler = try await channel.eventLoop.submit {
                let operations = channel.pipeline.syncOperations
                if let context, let tlsHost {
                    let serverName = NetworkGuard.isAddressLiteral(tlsHost) ? nil : tlsHost
                    try operations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                }
                try operations.addHTTPClientHandlers()
                try operations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                let exchanges = ExchangeHandler()
                try operations.addHandler(exchanges)
                return NIOLoopBound(exchanges, eventLoop: channel.eventLoop)
            }.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        let connection = PooledConnection(id: id, route: route, channel: channel, handler: handler)
        pool.register(connection)
        let pool = self.pool
        channel.closeFuture.whenComplete { _ in pool.retire(connection) }
        return connection
    }

    func connectToProxy(deadline: NIODeadline) async throws -> any Channel {
        guard let proxy else { throw HTTPTransportError.shutDown }
        let label = "the egress proxy \(proxy)"
        let addresses: [String]
        if NetworkGuard.isAddressLiteral(proxy.host) {
            addresses = [proxy.host]
        } else {
            switch await SystemResolver().addresses(of: proxy.host) {
            case .success(let found): addresses = found
            case .failure(let failure): throw HTTPTransportError.proxyBroken(proxy: "\(proxy) (it does not resolve: \(failure.reason))")
            }
        }
        return try await connect(to: addresses, port: proxy.port, label: label, deadline: deadline)
    }

    /// Connects to each address in turn until one answers, within the connect timeout and the deadline.
    func connect(to addresses: [String], port: Int, label: String?, deadline: NIODeadline) async throws -> any Channel {
        var failures: [HTTPTransportError.ConnectFailure] = []
        var timedOut: String?
        for address in addresses {
            let remaining = deadline - NIODeadline.now()
            guard remaining > .zero else { break }
            let shown = (label.map { "\($0) at " } ?? "") + (address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)")
            do {
                let socketAddress = try SocketAddress(ipAddress: address, port: port)
                return try await ClientBootstrap(group: group)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connectTimeout(min(connectTimeout, remaining))
                    .connect(to: socketAddress).get()
            } catch let error as IOError {
                if Self.localErrnos.contains(error.errnoCode) { throw HTTPTransportError.localResources(errno: error.errnoCode) }
                failures.append(.init(target: shown, errno: error.errnoCode))
            } catch ChannelError.connectTimeout {
                timedOut = shown
            } catch let error as NIOConnectionError {
                for attempt in error.connectionErrors {
                    if let io = attempt.error as? IOError {
                        if Self.localErrnos.contains(io.errnoCode) { throw HTTPTransportError.localResources(errno: io.errnoCode) }
                        failures.append(.init(target: shown, errno: io.errnoCode))
                    }
                }
            }
        }
        if failures.isEmpty { throw HTTPTransportError.connectTimedOut(target: timedOut ?? label ?? "the receiver") }
        throw HTTPTransportError.connectFailed(failures)
    }

    // MARK: Errors

    /// errnos that say Hookline's process or machine ran out of something, not that the receiver failed.
    static let localErrnos: Set<Int32> = [EMFILE, ENFILE, ENOBUFS, ENOMEM]

    /// Whether a failure on a reused connection means the receiver had closed it while idle.
    static func isStale(_ error: any Error) -> Bool {
        switch error {
        case HTTPTransportError.closedBeforeResponse(let receivedAny): return !receivedAny
        case let error as IOError: return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        case ChannelError.ioOnClosedChannel, ChannelError.eof: return true
        default: return false
        }
    }

    /// Maps guard, transport, NIO and TLS errors to an error class and one sentence.
    static func classify(_ error: any Error, timeout: TimeInterval) -> (AttemptErrorClass, String) {
        if let refusal = error as? NetworkGuard.Refusal { return (refusal.errorClass, refusal.message) }
        if let error = error as? HTTPTransportError {
            switch error {
            case .connectFailed(let failures):
                if failures.contains(where: { $0.errno == ECONNREFUSED }) { return (.connect, "connection refused (\(error))") }
                return (.connect, "could not connect (\(error))")
            case .connectTimedOut:
                return (.timeout, "\(error)")
            case .responseTimedOut:
                return (.timeout, "no complete response within \(DurationText.format(timeout))")
            case .closedBeforeResponse:
                return (.reset, "\(error)")
            case .proxyRefused, .proxyBroken:
                return (.connect, "\(error)")
            case .localResources:
                return (.local, "\(error)")
            case .invalidProxyURL, .shutDown:
                return (.network, "\(error)")
            }
        }
        if let error = error as? IOError {
            if error.errnoCode == ECONNRESET || error.errnoCode == EPIPE { return (.reset, "the connection was reset by the receiver") }
            if error.errnoCode == ECONNREFUSED { return (.connect, "connection refused") }
            if localErrnos.contains(error.errnoCode) { return (.local, HTTPTransportError.localResources(errno: error.errnoCode).description) }
            return (.network, String(cString: strerror(error.errnoCode)))
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return (.timeout, "no connection could be made in time")
            case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed:
                return (.reset, "the receiver closed the connection before a complete response")
            default: return (.network, "\(error)")
            }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return (.tls, "TLS failed: \(error)")
        }
        if error is HTTPParserError {
            return (.network, "the receiver's answer is not valid HTTP/1.1 (\(error))")
        }
        return (.network, "\(error)")
    }
}
