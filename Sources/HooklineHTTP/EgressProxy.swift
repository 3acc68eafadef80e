import Foundation

/// An HTTP proxy every delivery goes through: HTTPS tunnels with CONNECT, plain HTTP is sent to
/// the proxy in absolute form. The proxy itself may sit on a private network; the SSRF guard
/// applies to each delivery's own host.
public struct EgressProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `Proxy-Authorization` for a proxy URL with user information (`http://user:pass@host:port`).
    public var authorization: String?

    public init(host: String, port: Int, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }

    /// Parses `http://[user:password@]host[:port]` (port 80 when none is given).
    public init(url text: String) throws(HTTPTransportError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            throw .invalidProxyURL(text, .notAURL)
        }
        guard scheme == "http" else { throw .invalidProxyURL(text, .unsupportedScheme(scheme)) }
        guard let host = url.host, !host.isEmpty else { throw .invalidProxyURL(text, .missingHost) }
        let port = url.port ?? 80
        guard (1...65535).contains(port) else { throw .invalidProxyURL(text, .badPort) }
        var authorization: String?
        if let user = url.user {
            let credentials = "\(user.removingPercentEncoding ?? user):\(url.password?.removingPercentEncoding ?? url.password ?? "")"
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
        }
        self.init(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port, authorization: authorization)
    }

    /// The proxy's address as written in messages (credentials never shown).
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The proxy named by `HTTPS_PROXY` (or `https_proxy`) in `environment`, if any.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(HTTPTransportError) -> EgressProxy? {
        guard let text = environment["HTTPS_PROXY"] ?? environment["https_proxy"], !text.isEmpty else { return nil }
        return try EgressProxy(url: text)
    }
}
