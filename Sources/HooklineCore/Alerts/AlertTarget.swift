import Foundation

/// Where operational alerts are posted, such as a Slack incoming webhook.
///
/// The URL usually carries a secret (a token in the path or the query), so it is only ever shown
/// or logged as ``redacted``: scheme, host and port.
public struct AlertTarget: Sendable, Hashable {
    public let url: String
    /// `https://hooks.slack.com/…`: what logs and messages show.
    public let redacted: String
    private let secretParts: [String]

    /// Checks the URL: http or https, with a host.
    public init(url: String) throws(HooklineError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty else {
            throw .invalidInput("The alert URL must be a full http:// or https:// URL, such as a Slack incoming webhook's.")
        }
        self.url = url
        let port = components.port.map { ":\($0)" } ?? ""
        let hostText = host.contains(":") ? "[\(host)]" : host
        let hasMore = !components.percentEncodedPath.isEmpty && components.percentEncodedPath != "/" || components.query != nil
        redacted = "\(scheme)://\(hostText)\(port)\(hasMore ? "/…" : "")"
        secretParts = [components.percentEncodedPath, components.path, components.percentEncodedQuery ?? "", components.user ?? "",
                       components.password ?? ""].filter { $0.count > 1 }
    }

    /// `text` with anything of the URL beyond its host replaced by `…` (for error messages that
    /// might quote it).
    public func redact(_ text: String) -> String {
        var text = text.replacingOccurrences(of: url, with: redacted)
        for part in secretParts { text = text.replacingOccurrences(of: part, with: "…") }
        return text
    }
}
