import Foundation
@testable import HooklineCore
import Testing

@Suite struct NetworkGuardTests {
    // MARK: Address classification

    @Test(arguments: [
        // IPv4
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.255", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        // IPv6
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "unique-local"),
        ("fd12::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:10.0.0.1", "IPv4-mapped"),
        ("64:ff9b::a00:1", "NAT64 private"),
        ("64:ff9b::7f00:1", "NAT64 loopback"),
        ("2001:db8::1", "documentation"),
    ])
    func nonGlobalAddressesAreNamed(_ address: String, _ expected: String) throws {
        let kind = try #require(NetworkGuard.nonGlobalKind(address), "\(address) was taken for a public address")
        #expect(kind.contains(expected), "\(address) is \(kind)")
    }

    @Test(arguments: [
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
    ])
    func mappedAddressesNameTheEmbeddedKind(_ address: String, _ embedded: String) throws {
        let kind = try #require(NetworkGuard.nonGlobalKind(address))
        #expect(kind.lowercased().contains("mapped"))
        #expect(kind.contains(embedded))
    }

    @Test func exactKinds() {
        #expect(NetworkGuard.nonGlobalKind("127.0.0.1") == "loopback")
        #expect(NetworkGuard.nonGlobalKind("10.1.2.3") == "private")
        #expect(NetworkGuard.nonGlobalKind("169.254.169.254") == "link-local")
        #expect(NetworkGuard.nonGlobalKind("0.0.0.0") == "unspecified")
        #expect(NetworkGuard.nonGlobalKind("224.0.0.1") == "multicast")
        #expect(NetworkGuard.nonGlobalKind("255.255.255.255") == "reserved")
        #expect(NetworkGuard.nonGlobalKind("::1") == "loopback")
        #expect(NetworkGuard.nonGlobalKind("::") == "unspecified")
        #expect(NetworkGuard.nonGlobalKind("fe80::1") == "link-local")
        #expect(NetworkGuard.nonGlobalKind("fc00::1") == "unique-local")
        #expect(NetworkGuard.nonGlobalKind("ff02::1") == "multicast")
        #expect(NetworkGuard.nonGlobalKind("64:ff9b::a00:1") == "NAT64 private")
        #expect(NetworkGuard.nonGlobalKind("2001:db8::1") == "documentation")
    }

    @Test(arguments: [
        "172.32.0.1", "172.15.255.255", "8.8.8.8", "1.1.1.1", "100.128.0.1", "192.169.0.1", "11.0.0.1",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2606:4700::1111", "2a00:1450:4001:81c::200e",
    ])
    func publicAddressesPass(_ address: String) {
        #expect(NetworkGuard.nonGlobalKind(address) == nil, "\(address) was refused")
    }

    @Test(arguments: ["", "example.com", "256.1.1.1", "1.2.3", "::g", "[::1]"])
    func textThatIsNotAnAddressIsNotTakenForPublic(_ text: String) {
        #expect(NetworkGuard.nonGlobalKind(text) != nil)
    }

    // MARK: check(host:)

    @Test func aLoopbackLiteralIsRefusedWithTheWayOut() async throws {
        let result = await NetworkGuard().check(host: "127.0.0.1")
        guard case .failure(let refusal) = result else {
            Issue.record("127.0.0.1 was allowed: \(result)")
            return
        }
        #expect(refusal.errorClass == .refusedPrivate)
        #expect(refusal.message.contains("127.0.0.1"))
        #expect(refusal.message.contains("loopback"))
        #expect(refusal.message.contains("refused unless they are allowed"))
    }

    @Test func allowPrivateNetworksLetsItThrough() async throws {
        let result = await NetworkGuard(allowPrivateNetworks: true).check(host: "127.0.0.1")
        guard case .success(let addresses) = result else {
            Issue.record("127.0.0.1 was refused with allowPrivateNetworks: \(result)")
            return
        }
        #expect(addresses == ["127.0.0.1"])
    }

    @Test func aBracketedIPv6LiteralIsChecked() async throws {
        let result = await NetworkGuard().check(host: "[::1]")
        guard case .failure(let refusal) = result else {
            Issue.record("[::1] was allowed: \(result)")
            return
        }
        #expect(refusal.errorClass == .refusedPrivate)
        #expect(refusal.message.contains("::1"))
    }

    @Test func aPrivateLiteralIsRefused() async throws {
        let result = await NetworkGuard().check(host: "10.0.0.1")
        guard case .failure(let refusal) = result else {
            Issue.record("10.0.0.1 was allowed: \(result)")
            return
        }
        #expect(refusal.errorClass == .refusedPrivate)
        #expect(refusal.message.contains("private"))
    }

    @Test func aPublicLiteralIsAllowedWithoutALookup() async throws {
        let result = await NetworkGuard().check(host: "8.8.8.8")
        guard case .success(let addresses) = result else {
            Issue.record("8.8.8.8 was refused: \(result)")
            return
        }
        #expect(addresses == ["8.8.8.8"])
    }

    @Test func localhostIsRefused() async throws {
        let result = await NetworkGuard().check(host: "localhost")
        guard case .failure(let refusal) = result else {
            Issue.record("localhost was allowed: \(result)")
            return
        }
        #expect(refusal.errorClass == .refusedPrivate)
        #expect(refusal.message.contains("localhost"))
        #expect(refusal.message.contains("refused unless they are allowed"))
    }

    @Test func aNameThatDoesNotResolveIsADNSFailure() async throws {
        let result = await NetworkGuard().check(host: "no-such-host.invalid")
        guard case .failure(let refusal) = result else {
            Issue.record("no-such-host.invalid resolved: \(result)")
            return
        }
        #expect(refusal.errorClass == .dns)
        #expect(refusal.message.contains("no-such-host.invalid"))
        // Even with private networks allowed, nothing resolves.
        let allowed = await NetworkGuard(allowPrivateNetworks: true).check(host: "no-such-host.invalid")
        guard case .failure(let second) = allowed else {
            Issue.record("no-such-host.invalid resolved: \(allowed)")
            return
        }
        #expect(second.errorClass == .dns)
    }
}

@Suite struct NetworkGuardTunnelTests {
    @Test(arguments: [("2002:7f00:1::1", "6to4 loopback"), ("2002:a00:1::1", "6to4 private"), ("64:ff9b:1::a00:1", "NAT64 local-use")])
    func tunnelledPrivateAddressesAreRefused(_ address: String, _ kind: String) {
        #expect(NetworkGuard.nonGlobalKind(address) == kind)
    }

    @Test func sixToFourOfAPublicAddressIsAllowed() {
        #expect(NetworkGuard.nonGlobalKind("2002:808:808::1") == nil)
    }
}
