import AsyncHTTPClient
import Foundation
import HooklineCore
import NIOCore
import NIOPosix
import NIOSSL

/// The real transport: async-http-client with pooled connections, no redirects, the SSRF guard,
/// a connect timeout and a whole-request deadline.
public final class AsyncHTTPTransport: HTTPTransport {
    private let client: HTTPClient
    private let networkGuard: NetworkGuard

    /// - Parameters:
    ///   - connectionsPerHost: pooled HTTP/1 connections per receiver (the per-endpoint concurrency).
    ///   - retryConnecting: keep trying to connect, with backoff, until the connect timeout (what
    ///     delivery wants under load); false fails at the first refusal (what a one-off test wants:
    ///     a quick answer).
    public init(networkGuard: NetworkGuard, connectTimeout: TimeInterval = 5, connectionsPerHost: Int = 8, retryConnecting: Bool = true) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .milliseconds(Int64(connectTimeout * 1000)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = retryConnecting
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.networkGuard = networkGuard
    }

    /// Closes pooled connections; call once, when the dispatcher has stopped.
    public func shutdown() async {
        try? await client.shutdown()
    }

    public func send(_ request: OutboundRequest) async -> TransportOutcome {
        let start = ContinuousClock.now
        let elapsed: @Sendable () -> Int = {
            let duration = ContinuousClock.now - start
            return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        guard let url = URLComponents(string: request.url), let host = url.host, !host.isEmpty else {
            return .failure(.invalidURL, "\(request.url) is not a valid URL", durationMs: 0)
        }
        if case .failure(let refusal) = await networkGuard.check(host: host) {
            return .failure(refusal.errorClass, refusal.message, durationMs: elapsed())
        }
        var outbound = HTTPClientRequest(url: request.url)
        outbound.method = .POST
        for header in request.headers {
            outbound.headers.add(name: header.name, value: header.value)
        }
        outbound.body = .bytes(ByteBuffer(bytes: request.body))
        let deadline = NIODeadline.now() + .milliseconds(Int64(request.timeout * 1000))
        let prepared = outbound
        let client = self.client
        // async-http-client's deadline ends when the response head arrives; the body is read in a
        // task that a timer on the event loop cancels just after the same deadline (the grace lets
        // the client report its own, more precise error until the head), so that a body that never
        // ends cannot hold the slot past the request's time limit.
        let exchange = Task {
            let response = try await client.execute(prepared, deadline: deadline)
            var excerpt: [UInt8] = []
            for try await chunk in response.body {
                excerpt.append(contentsOf: chunk.readableBytesView.prefix(responseExcerptLimit - excerpt.count))
                if excerpt.count >= responseExcerptLimit { break }
            }
            var headers: [String: String] = [:]
            for name in ["retry-after", "location"] {
                if let value = response.headers.first(name: name) { headers[name] = value }
            }
            return TransportOutcome(statusCode: Int(response.status.code), headers: headers, bodyExcerpt: excerpt, durationMs: elapsed())
        }
        let timer = client.eventLoopGroup.any().scheduleTask(deadline: deadline + .milliseconds(250)) { exchange.cancel() }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await exchange.value
            } onCancel: {
                exchange.cancel()
            }
        } catch {
            let (errorClass, message) = Self.classify(error, timeout: request.timeout)
            return .failure(errorClass, message, durationMs: elapsed())
        }
    }

    /// Maps client, NIO and TLS errors to an error class and one sentence.
    static func classify(_ error: any Error, timeout: TimeInterval) -> (AttemptErrorClass, String) {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return (.timeout, "no complete response within \(DurationText.format(timeout))")
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return (.timeout, "no connection could be made in time")
            case .tlsHandshakeTimeout:
                return (.tls, "the TLS handshake timed out")
            case .remoteConnectionClosed:
                return (.reset, "the receiver closed the connection before a complete response")
            case .cancelled:
                return (.timeout, "the request was cancelled at its time limit")
            default:
                return (.network, "\(error)")
            }
        }
        if let error = error as? NIOConnectionError {
            let underlying = error.connectionErrors.map { "\($0.target): \(describe($0.error))" }.joined(separator: "; ")
            if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return (.connect, "connection refused (\(underlying))")
            }
            return (.connect, "could not connect (\(underlying.isEmpty ? "\(error)" : underlying))")
        }
        if let error = error as? IOError {
            if error.errnoCode == ECONNREFUSED { return (.connect, "connection refused") }
            if error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
                return (.reset, "the connection was reset by the receiver")
            }
            return (.network, describe(error))
        }
        if let error = error as? ChannelError {
            if case .connectTimeout = error { return (.timeout, "no connection could be made in time") }
            return (.network, "\(error)")
        }
        if error is NIOSSLError || error is BoringSSLError {
            return (.tls, "TLS failed: \(error)")
        }
        if error is CancellationError {
            return (.timeout, "the request was cancelled at its time limit")
        }
        return (.network, "\(error)")
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}
