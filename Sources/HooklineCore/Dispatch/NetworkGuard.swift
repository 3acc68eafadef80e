import Foundation

/// The SSRF guard: resolves a host and refuses addresses that are not on the public internet.
///
/// Refused: loopback, private (RFC 1918), link-local, unique-local, CGNAT (100.64/10), multicast,
/// unspecified, broadcast, documentation and benchmarking ranges, and IPv4-mapped, NAT64 and 6to4
/// forms of any of them. The check runs on every address the name resolves to, once per new
/// connection, and the transport connects to the addresses it returned: there is no second
/// resolution for a rebinding DNS server to answer differently.
public struct NetworkGuard: Sendable {
    public var allowPrivateNetworks: Bool
    /// Where host names are resolved (the system's resolver, unless a test answers instead).
    public var resolver: any HostResolver

    public init(allowPrivateNetworks: Bool = false, resolver: any HostResolver = SystemResolver()) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.resolver = resolver
    }

    /// A refusal or a resolution failure, as an attempt records it.
    public struct Refusal: Error, Sendable, Hashable {
        public var errorClass: AttemptErrorClass
        public var message: String
    }

    /// Why a name did not resolve, in the resolver's words.
    public struct ResolutionFailure: Error, Sendable, Hashable {
        public var reason: String

        public init(reason: String) {
            self.reason = reason
        }
    }

    /// Resolves `host` and checks every address; returns the addresses when delivery may go ahead.
    public func check(host: String) async -> Result<[String], Refusal> {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        // An address literal needs no resolver (and no hop to another thread).
        let resolved = Self.isAddressLiteral(bare) ? .success([bare]) : await resolver.addresses(of: bare)
        let addresses: [String]
        switch resolved {
        case .success(let found) where !found.isEmpty:
            addresses = found
        case .success:
            return .failure(Refusal(errorClass: .dns, message: "\(host) does not resolve (no addresses)"))
        case .failure(let failure):
            return .failure(Refusal(errorClass: .dns, message: "\(host) does not resolve (\(failure.reason))"))
        }
        if !allowPrivateNetworks {
            for address in addresses {
                if let kind = Self.nonGlobalKind(address) {
                    return .failure(Refusal(
                        errorClass: .refusedPrivate,
                        message: "\(host) resolves to \(address), a \(kind) address; delivery to private networks is refused unless they are allowed"))
                }
            }
        }
        return .success(addresses)
    }

    /// Whether `host` is a numeric IPv4 or IPv6 address (without brackets).
    public static func isAddressLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Why a numeric address is not global (`loopback`, `private`, …), or nil for a public one.
    public static func nonGlobalKind(_ address: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return kindOfIPv4(UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        let zoneless = address.split(separator: "%").first.map(String.init) ?? address
        guard inet_pton(AF_INET6, zoneless, &v6) == 1 else { return "unparseable" }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        return kindOfIPv6(bytes)
    }

    static func kindOfIPv4(_ a: UInt32) -> String? {
        func inRange(_ base: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return a & mask == base & mask
        }
        let ranges: [(UInt32, UInt32, String)] = [
            (0x0000_0000, 8, "unspecified"),
            (0x0A00_0000, 8, "private"),
            (0x6440_0000, 10, "CGNAT (shared address space)"),
            (0x7F00_0000, 8, "loopback"),
            (0xA9FE_0000, 16, "link-local"),
            (0xAC10_0000, 12, "private"),
            (0xC000_0000, 24, "reserved (IETF protocol assignments)"),
            (0xC000_0200, 24, "documentation"),
            (0xC0A8_0000, 16, "private"),
            (0xC612_0000, 15, "benchmarking"),
            (0xC633_6400, 24, "documentation"),
            (0xCB00_7100, 24, "documentation"),
            (0xE000_0000, 4, "multicast"),
            (0xF000_0000, 4, "reserved"),
        ]
        for (base, prefix, kind) in ranges where inRange(base, prefix) { return kind }
        return nil
    }

    static func kindOfIPv6(_ b: [UInt8]) -> String? {
        if b.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "loopback" }
        let v4 = UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
            return kindOfIPv4(v4).map { "IPv4-mapped \($0)" }
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..<12].allSatisfy({ $0 == 0 }) {
            return kindOfIPv4(v4).map { "NAT64 \($0)" }
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4] == 0x00 && b[5] == 0x01 {
            return "NAT64 local-use"
        }
        if b[0] == 0x20 && b[1] == 0x02 {
            // 6to4 carries an IPv4 address in bytes 2...5.
            let embedded = UInt32(b[2]) << 24 | UInt32(b[3]) << 16 | UInt32(b[4]) << 8 | UInt32(b[5])
            if let kind = kindOfIPv4(embedded) { return "6to4 \(kind)" }
        }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return "IPv4-compatible (deprecated)" }
        if b[0] & 0xFE == 0xFC { return "unique-local" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "link-local" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return "site-local" }
        if b[0] == 0xFF { return "multicast" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return "documentation" }
        return nil
    }
}
