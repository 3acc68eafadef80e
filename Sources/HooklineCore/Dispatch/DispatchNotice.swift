import Foundation

/// Something an operator should hear about, as the dispatcher sees it happen.
///
/// Breaker changes, disables and permanent failures that this dispatcher records are reported as it
/// records them; changes made by other processes (an operator's disable or breaker reset from the
/// CLI or the console) are reported when the dispatcher next re-reads endpoints and breakers.
public enum DispatchNotice: Sendable, Hashable {
    /// The breaker opened (or re-opened after a failed probe): the endpoint's deliveries wait.
    case breakerOpened(endpoint: EndpointRef, reopened: Bool, consecutiveFailures: Int, nextProbeAt: Date?, lastError: String?)
    /// The breaker closed: a probe succeeded, or an operator reset it.
    case breakerClosed(endpoint: EndpointRef, byOperator: Bool)
    /// The endpoint was disabled (by a 410, by auto-disable, or by an operator); its deliveries are held.
    case endpointDisabled(endpoint: EndpointRef, reason: String)
    /// A delivery used up its attempts and failed for good.
    case deliveryFailed(endpoint: EndpointRef, deliveryID: String, eventID: String, attempts: Int, lastError: String?)

    /// The endpoint concerned.
    public var endpoint: EndpointRef {
        switch self {
        case .breakerOpened(let endpoint, _, _, _, _), .breakerClosed(let endpoint, _), .endpointDisabled(let endpoint, _),
             .deliveryFailed(let endpoint, _, _, _, _):
            return endpoint
        }
    }
}

/// An endpoint as a notice names it.
public struct EndpointRef: Sendable, Hashable {
    public var id: String
    public var url: String
    public var description: String

    public init(id: String, url: String, description: String = "") {
        self.id = id
        self.url = url
        self.description = description
    }

    public init(_ endpoint: Endpoint) {
        self.init(id: endpoint.id, url: endpoint.url, description: endpoint.description)
    }

    /// `ep_… (Billing)` or just the id.
    public var label: String { description.isEmpty ? id : "\(id) (\(description))" }
}
