import Foundation

/// Turns a host name into numeric addresses: the seam through which the SSRF guard resolves, so
/// that a test can answer what a rebinding DNS server would.
public protocol HostResolver: Sendable {
    /// The host's addresses (numeric text, IPv4 or IPv6), or why it does not resolve.
    func addresses(of host: String) async -> Result<[String], NetworkGuard.ResolutionFailure>
}

/// The system's resolver: getaddrinfo on a dispatch thread, so that a slow resolver never blocks
/// the cooperative pool.
public struct SystemResolver: HostResolver {
    public init() {}

    public func addresses(of host: String) async -> Result<[String], NetworkGuard.ResolutionFailure> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.lookUp(host))
            }
        }
    }

    static func lookUp(_ host: String) -> Result<[String], NetworkGuard.ResolutionFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0, let first = result else {
            return .failure(NetworkGuard.ResolutionFailure(reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(cString: buffer)
                if !addresses.contains(text) { addresses.append(text) }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(NetworkGuard.ResolutionFailure(reason: "no addresses")) : .success(addresses)
    }
}
