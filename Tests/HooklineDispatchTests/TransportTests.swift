import Foundation
import HooklineCore
@testable import HooklineHTTP
import HooklineTestSupport
import NIOCore
import NIOSSL
import Testing

/// The transport on real sockets: it connects to the address the SSRF guard vetted, checks TLS
/// against the URL's host, keeps connections alive, and goes through an egress proxy.
@Suite(.serialized) struct TransportTests {
    let body = Array(#"{"event":"case.created"}"#.utf8)

    func post(_ transport: NIOHTTPTransport, _ url: String, timeout: TimeInterval = 5) async -> TransportOutcome {
        await transport.send(OutboundRequest(url: url, headers: [("Content-Type", "application/json")], body: body, timeout: timeout))
    }

    // MARK: The vetted address

    @Test func theConnectionGoesToTheAddressTheGuardVettedNotToASecondAnswer() async throws {
        let receiver = try await ScriptedReceiver()
        // A rebinding server: the first answer is the receiver (private networks allowed here),
        // every later one a different address. A second resolution would connect there.
        let resolver = ScriptedResolver(["hooks.test": [["127.0.0.1"], ["10.255.255.1"]]])
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true, resolver: resolver), connectTimeout: 1)
        var statuses: [Int?] = []
        for _ in 0..<5 { statuses.append(await post(transport, "http://hooks.test:\(receiver.port)/hook").statusCode) }
        await transport.shutdown()
        await receiver.stop()

        #expect(statuses == [200, 200, 200, 200, 200])
        #expect(resolver.questions(about: "hooks.test") == 1, "one resolution for the one kept-alive connection")
        #expect(receiver.requests.count == 5)
        #expect(receiver.requests.allSatisfy { $0.headers["host"] == "hooks.test:\(receiver.port)" }, "Host is the URL's host")
    }

    @Test func aRebindingAnswerAfterTheCheckNeverReachesTheLoopback() async throws {
        let receiver = try await ScriptedReceiver()
        // Public first (what the guard checks), 127.0.0.1 second (what a rebinding server answers
        // to the connect-time lookup of a client that resolves twice).
        let resolver = ScriptedResolver(["rebind.test": [["192.88.99.200"], ["127.0.0.1"]]])
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: false, resolver: resolver), connectTimeout: 0.5)
        let first = await post(transport, "http://rebind.test:\(receiver.port)/hook", timeout: 2)
        let asked = resolver.questions(about: "rebind.test")
        // The next connection asks again and gets the loopback: the guard refuses it.
        let second = await post(transport, "http://rebind.test:\(receiver.port)/hook", timeout: 2)
        await transport.shutdown()
        await receiver.stop()

        #expect(asked == 1, "the guard's answer is the one the socket connected to")
        #expect(first.statusCode == nil && [.connect, .timeout].contains(first.errorClass), "\(first)")
        #expect(first.errorMessage?.contains("192.88.99.200") == true, "the attempt names the vetted address: \(first.errorMessage ?? "-")")
        #expect(second.errorClass == .refusedPrivate, "\(second)")
        #expect(receiver.requests.isEmpty, "nothing ever reached 127.0.0.1")
    }

    @Test func tlsChecksTheCertificateAgainstTheURLsHostAndSendsItAsTheServerName() async throws {
        let certificates = try TestCertificates(names: ["hooks.test"])
        let receiver = try await TLSReceiver(certificates: certificates)
        let resolver = ScriptedResolver.loopback(["hooks.test", "other.test"])
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true, resolver: resolver), connectTimeout: 2,
            tlsConfiguration: certificates.clientConfiguration)
        let good = await post(transport, "https://hooks.test:\(receiver.port)/hook?x=1")
        let wrongName = await post(transport, "https://other.test:\(receiver.port)/hook")
        let byAddress = await post(transport, "https://127.0.0.1:\(receiver.port)/hook")
        await transport.shutdown()
        await receiver.stop()

        #expect(good.statusCode == 200, "\(good)")
        #expect(receiver.seen.first == TLSReceiver.Seen(serverName: "hooks.test", host: "hooks.test:\(receiver.port)", path: "/hook?x=1"))
        #expect(wrongName.errorClass == .tls, "a certificate for hooks.test does not do for other.test: \(wrongName.errorMessage ?? "-")")
        #expect(byAddress.errorClass == .tls, "nor for the address it was reached at: \(byAddress)")
        #expect(receiver.seen.count == 1)
    }

    // MARK: Keep-alive

    @Test func connectionsAreKeptAliveAndOneClosedByTheReceiverIsReplaced() async throws {
        let receiver = try await ScriptedReceiver()
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 1, connectionsPerHost: 4)
        for _ in 0..<20 { _ = await post(transport, receiver.url()) }
        #expect(transport.openConnections == 1, "twenty requests one after another use one connection")
        await transport.shutdown()
        await receiver.stop()

        // A receiver that drops a kept-alive connection as the next request arrives: that request
        // goes once more on a fresh connection instead of failing as a reset.
        let dropping = RawSocketServer(.answersOnceThenCloses)
        let replacing = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 1, connectionsPerHost: 4)
        let first = await post(replacing, dropping.url())
        let second = await post(replacing, dropping.url())
        let open = replacing.openConnections
        await replacing.shutdown()
        dropping.stop()
        #expect(first.statusCode == 200, "\(first)")
        #expect(second.statusCode == 200, "the dropped connection was replaced: \(second)")
        #expect(dropping.accepted == 2)
        #expect(open == 1)
    }

    @Test func aThousandOriginsEachGetAConnectionAndIdleOnesAreClosed() async throws {
        let receiver = try await ScriptedReceiver()
        let hosts = (0..<1_000).map { "endpoint-\($0).hooks.test" }
        let resolver = ScriptedResolver.loopback(hosts)
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true, resolver: resolver), connectTimeout: 3, idleTimeout: 1)
        let statuses = await withTaskGroup(of: [Int?].self) { group in
            for slice in 0..<16 {
                group.addTask {
                    var statuses: [Int?] = []
                    for index in stride(from: slice, to: hosts.count, by: 16) {
                        statuses.append(await post(transport, "http://\(hosts[index]):\(receiver.port)/hook").statusCode)
                    }
                    return statuses
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let openAfterwards = transport.openConnections
        // The idle timeout closes them all; the pool then holds nothing for those origins.
        var open = openAfterwards
        for _ in 0..<50 where open > 0 {
            try await Task.sleep(for: .milliseconds(100))
            open = transport.openConnections
        }
        await transport.shutdown()
        await receiver.stop()

        #expect(statuses.count == 1_000 && statuses.allSatisfy { $0 == 200 })
        #expect(openAfterwards > 0 && openAfterwards <= 1_000, "at most one connection per origin (some idled out already)")
        #expect(open == 0, "connections idle past the timeout are closed and forgotten")
        #expect(hosts.allSatisfy { resolver.questions(about: $0) == 1 }, "each origin was resolved and connected to once")
    }

    // MARK: Egress proxy

    @Test func httpsTunnelsThroughTheProxyWithTheHostNameForTLS() async throws {
        let certificates = try TestCertificates(names: ["hooks.test"])
        let receiver = try await TLSReceiver(certificates: certificates)
        let proxy = try await ConnectProxy(hosts: ["hooks.test": "127.0.0.1"])
        let resolver = ScriptedResolver(["hooks.test": [["203.0.114.10"]]])
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: false, resolver: resolver), connectTimeout: 2,
            proxy: try EgressProxy(url: proxy.url), tlsConfiguration: certificates.clientConfiguration)
        let first = await post(transport, "https://hooks.test:\(receiver.port)/hook")
        let second = await post(transport, "https://hooks.test:\(receiver.port)/hook")
        await transport.shutdown()
        await proxy.stop()
        await receiver.stop()

        #expect(first.statusCode == 200 && second.statusCode == 200, "\(first) \(second)")
        #expect(proxy.requestLines == ["CONNECT hooks.test:\(receiver.port) HTTP/1.1"], "one tunnel, kept alive")
        #expect(receiver.seen.map(\.serverName) == ["hooks.test", "hooks.test"])
        #expect(resolver.questions(about: "hooks.test") == 1, "the guard still checks the delivery's host")
    }

    @Test func plainHTTPGoesToTheProxyInAbsoluteForm() async throws {
        let receiver = try await ScriptedReceiver()
        let proxy = try await ConnectProxy()
        let transport = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 2, proxy: try EgressProxy(url: proxy.url))
        let outcome = await post(transport, "http://127.0.0.1:\(receiver.port)/hook/7?a=b")
        await transport.shutdown()
        await proxy.stop()
        await receiver.stop()

        #expect(outcome.statusCode == 200, "\(outcome)")
        #expect(proxy.requestLines == ["POST http://127.0.0.1:\(receiver.port)/hook/7?a=b HTTP/1.1"])
        #expect(receiver.requests.map(\.path) == ["/hook/7"])
        #expect(receiver.requests.first?.body == body)
    }

    @Test func theGuardStillRefusesAPrivateDeliveryHostBehindAProxy() async throws {
        let receiver = try await ScriptedReceiver()
        let proxy = try await ConnectProxy()
        let transport = NIOHTTPTransport(networkGuard: NetworkGuard(allowPrivateNetworks: false), proxy: try EgressProxy(url: proxy.url))
        let plain = await post(transport, "http://127.0.0.1:\(receiver.port)/hook")
        let tunnelled = await post(transport, "https://127.0.0.1:\(receiver.port)/hook")
        await transport.shutdown()
        await proxy.stop()
        await receiver.stop()

        #expect(plain.errorClass == .refusedPrivate && tunnelled.errorClass == .refusedPrivate, "\(plain) \(tunnelled)")
        #expect(proxy.requestLines.isEmpty, "the proxy (itself on 127.0.0.1) was never asked")
        #expect(receiver.requests.isEmpty)
    }

    @Test func aDeadOrRefusingProxyIsNamedInTheError() async throws {
        let dead = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: true), connectTimeout: 1,
            proxy: try EgressProxy(url: "http://127.0.0.1:\(closedPort())"))
        let viaDead = await post(dead, "http://127.0.0.1:9/hook")
        await dead.shutdown()
        let proxy = try await ConnectProxy(refused: ["blocked.test"])
        let refusing = NIOHTTPTransport(
            networkGuard: NetworkGuard(allowPrivateNetworks: false, resolver: ScriptedResolver(["blocked.test": [["203.0.114.20"]]])),
            proxy: try EgressProxy(url: proxy.url))
        let viaRefusing = await post(refusing, "https://blocked.test/hook")
        await refusing.shutdown()
        await proxy.stop()

        #expect(viaDead.errorClass == .connect && viaDead.errorMessage?.contains("egress proxy") == true, "\(viaDead)")
        #expect(viaRefusing.errorClass == .connect, "\(viaRefusing)")
        #expect(viaRefusing.errorMessage?.contains("answered 403 to CONNECT") == true, "\(viaRefusing.errorMessage ?? "-")")
    }

    @Test func aProxyURLThatCannotBeUsedSaysWhy() {
        #expect(throws: HTTPTransportError.invalidProxyURL("socks5://p:1080", .unsupportedScheme("socks5"))) { try EgressProxy(url: "socks5://p:1080") }
        #expect(throws: HTTPTransportError.invalidProxyURL("http://", .missingHost)) { try EgressProxy(url: "http://") }
        let proxy = try? EgressProxy(url: "http://user:p%40ss@proxy.internal:3128")
        #expect(proxy?.host == "proxy.internal" && proxy?.port == 3128)
        #expect(proxy?.authorization == "Basic " + Data("user:p@ss".utf8).base64EncodedString())
        #expect(proxy?.description == "proxy.internal:3128", "credentials are never shown")
        let none = try? EgressProxy.fromEnvironment([:])
        #expect(none == nil)
        let fromEnvironment = try? EgressProxy.fromEnvironment(["HTTPS_PROXY": "http://10.0.0.5:8080"])
        #expect(fromEnvironment?.port == 8080)
    }

    @Test func urlsAreTakenApartOnceWithTheirAuthorityPathAndQuery() throws {
        let v6 = try #require(NIOHTTPTransport.parse("https://[2001:db8::7]/hooks?a=1&b=%20"))
        #expect(v6.host == "2001:db8::7" && v6.port == 443 && v6.tls)
        #expect(v6.authority == "[2001:db8::7]" && v6.tunnelAuthority == "[2001:db8::7]:443")
        #expect(v6.path == "/hooks?a=1&b=%20")
        let plain = try #require(NIOHTTPTransport.parse("http://Hooks.Example.com:8080"))
        #expect(plain.authority == "hooks.example.com:8080" || plain.authority == "Hooks.Example.com:8080")
        #expect(plain.path == "/" && plain.absolute.hasSuffix(":8080/"))
        #expect(NIOHTTPTransport.parse("ftp://example.com/x") == nil)
        #expect(NIOHTTPTransport.parse("http:///nohost") == nil)
        #expect(NIOHTTPTransport.parse("http://example.com:70000/") == nil)
    }

    // MARK: Our faults

    @Test func runningOutOfDescriptorsIsOursNotTheReceivers() {
        for errno in [EMFILE, ENFILE, ENOBUFS, ENOMEM] {
            let (errorClass, message) = NIOHTTPTransport.classify(HTTPTransportError.localResources(errno: errno), timeout: 5)
            #expect(errorClass == .local && message.hasPrefix("Hookline could not open a connection"))
            #expect(NIOHTTPTransport.classify(IOError(errnoCode: errno, reason: "socket"), timeout: 5).0 == .local)
        }
        #expect(NIOHTTPTransport.classify(IOError(errnoCode: ECONNRESET, reason: "read"), timeout: 5).0 == .reset)
    }
}
