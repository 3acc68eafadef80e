import Foundation

/// Checks of the settings an operator gives an endpoint.
public enum EndpointSettings {
    /// The longest URL accepted.
    public static let maximumURLLength = 2048
    /// The longest description accepted.
    public static let maximumDescriptionLength = 500
    /// The highest rate limit accepted, in deliveries per second.
    public static let maximumRateLimit = 10_000.0

    /// Returns the URL if it is an absolute `http` or `https` URL with a host and no credentials.
    public static func validateURL(_ text: String) throws(HooklineError) -> String {
        let shown = Identifier.printable(text)
        guard !text.isEmpty else {
            throw .invalidInput("The endpoint URL is empty; give an absolute URL such as https://example.com/webhooks/churn-saver.")
        }
        guard text.count <= maximumURLLength else {
            throw .invalidInput("The endpoint URL is \(text.count) characters long; the limit is \(maximumURLLength).")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw .invalidInput("'\(shown)' is not an absolute URL; give one such as https://example.com/webhooks/churn-saver.")
        }
        guard scheme == "http" || scheme == "https" else {
            throw .invalidInput("The endpoint URL must use http or https, not '\(scheme)'.")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidInput("The endpoint URL '\(shown)' has no host; give one such as https://example.com/webhooks.")
        }
        guard components.user == nil, components.password == nil else {
            throw .invalidInput("The endpoint URL must not carry a user name or password, since listings show URLs; receivers check the signature instead.")
        }
        guard components.fragment == nil else {
            throw .invalidInput("The endpoint URL '\(shown)' has a #fragment, which is never sent; remove it.")
        }
        return text
    }

    /// Checks a rate limit in deliveries per second.
    public static func validateRateLimit(_ limit: Double?) throws(HooklineError) {
        guard let limit else { return }
        guard limit.isFinite, limit > 0, limit <= maximumRateLimit else {
            throw .invalidInput("The rate limit must be a number of deliveries per second above 0 and at most \(Int(maximumRateLimit)).")
        }
    }

    /// Checks a description: at most 500 characters, no control characters.
    public static func validateDescription(_ text: String) throws(HooklineError) {
        guard text.count <= maximumDescriptionLength else {
            throw .invalidInput("The description is \(text.count) characters long; the limit is \(maximumDescriptionLength).")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidInput("The description contains control characters; use plain text.")
        }
    }
}
