import Foundation

/// What goes wrong in the HTTP transport below the level of an attempt's outcome: a proxy URL
/// that cannot be used, and the failures an exchange ends with before they are classified.
public enum HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `--proxy` or `proxy:` names something that is not an `http://host:port` proxy.
    case invalidProxyURL(String, ProxyURLProblem)
    /// No TCP connection to any of the addresses, each with its errno.
    case connectFailed([ConnectFailure])
    /// No TCP connection within the connect timeout.
    case connectTimedOut(target: String)
    /// The peer closed the connection before a complete response; `receivedAny` says whether any
    /// of the response had arrived.
    case closedBeforeResponse(receivedAny: Bool)
    /// No complete response before the request's deadline.
    case responseTimedOut
    /// The egress proxy answered CONNECT with something other than 2xx.
    case proxyRefused(proxy: String, status: Int)
    /// The egress proxy closed the connection or sent something that is not HTTP.
    case proxyBroken(proxy: String)
    /// The transport was shut down.
    case shutDown
    /// Hookline itself ran out of something (file descriptors, socket buffers, memory): not the
    /// receiver's fault, and not counted against the delivery.
    case localResources(errno: Int32)

    /// Why a proxy URL cannot be used.
    public enum ProxyURLProblem: Sendable, Hashable {
        case notAURL
        case unsupportedScheme(String)
        case missingHost
        case badPort
    }

    /// One address that refused or could not be reached.
    public struct ConnectFailure: Sendable, Hashable {
        public var target: String
        public var errno: Int32
    }

    public var description: String {
        switch self {
        case .invalidProxyURL(let url, let problem):
            let why: String
            switch problem {
            case .notAURL: why = "is not a URL"
            case .unsupportedScheme(let scheme): why = "uses \(scheme)://, and only http:// proxies (which tunnel HTTPS with CONNECT) are supported"
            case .missingHost: why = "names no host"
            case .badPort: why = "has a port outside 1...65535"
            }
            return "the proxy URL \(url) \(why); give one like http://proxy.internal:3128"
        case .connectFailed(let failures):
            return failures.map { "\($0.target): \(String(cString: strerror($0.errno)))" }.joined(separator: "; ")
        case .connectTimedOut(let target):
            return "no connection to \(target) in time"
        case .closedBeforeResponse:
            return "the receiver closed the connection before a complete response"
        case .responseTimedOut:
            return "no complete response in time"
        case .proxyRefused(let proxy, let status):
            return "the egress proxy \(proxy) answered \(status) to CONNECT"
        case .proxyBroken(let proxy):
            return "the egress proxy \(proxy) closed the tunnel or did not answer in HTTP"
        case .shutDown:
            return "the transport was shut down"
        case .localResources(let errno):
            return "Hookline could not open a connection: \(String(cString: strerror(errno)))"
        }
    }
}
