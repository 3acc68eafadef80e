/// Why an attempt failed, as attempts record it (`attempt.error_class`) and the console and
/// `--json` listings show it.
public enum AttemptErrorClass: String, Sendable, Hashable, CaseIterable {
    /// The host name does not resolve.
    case dns
    /// The host resolves to a loopback, private or link-local address and those are not allowed.
    case refusedPrivate = "refused_private"
    /// No TCP connection could be made (refused, unreachable).
    case connect
    /// The TLS handshake or the certificate failed.
    case tls
    /// No complete response within the time limit (or no connection in time).
    case timeout
    /// The receiver closed or reset the connection before a complete response.
    case reset
    /// Another network failure.
    case network
    /// The endpoint's URL cannot be parsed.
    case invalidURL = "invalid_url"
    /// A 3xx: redirects are not followed.
    case redirect
    /// Any other answer that is not 2xx.
    case httpStatus = "http_status"
    /// A failure of Hookline's own making (out of file descriptors or memory): not the receiver's.
    /// The dispatcher puts such a delivery back instead of counting the attempt.
    case local
}
