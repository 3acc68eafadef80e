import ArgumentParser
import HooklineCore
import HooklineHTTP

/// `--proxy` and `--proxy-from-environment`: shared by `endpoint test` and `console` (serve has
/// the same two as settings, which a config file may also give).
struct ProxyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Send through this HTTP proxy (HTTPS tunnels with CONNECT).", valueName: "http://host:port"))
    var proxy: String?
    @Flag(name: .customLong("proxy-from-environment"), help: "Use the proxy in $HTTPS_PROXY when --proxy is not given.")
    var proxyFromEnvironment = false

    func egressProxy() throws(HooklineError) -> EgressProxy? {
        try Self.egressProxy(url: proxy, fromEnvironment: proxyFromEnvironment, source: "--proxy")
    }

    /// The proxy a URL names, or `$HTTPS_PROXY`'s when asked for; nil for none. `source` names
    /// where the URL came from, for the error.
    static func egressProxy(url: String?, fromEnvironment: Bool, source: String) throws(HooklineError) -> EgressProxy? {
        do {
            if let url { return try EgressProxy(url: url) }
            return fromEnvironment ? try EgressProxy.fromEnvironment() : nil
        } catch {
            throw .invalidInput("\(url == nil ? "$HTTPS_PROXY" : source): \(error.description).")
        }
    }
}
