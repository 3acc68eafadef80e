import Hummingbird

/// The request context of every API route: Hummingbird's core storage and who is asking.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``BearerAuthentication`` before any route runs.
    public var principal: APIPrincipal

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = .admin
    }
}
