/// Whether an endpoint may be removed, decided once for both stores from what they count in the
/// removal's transaction: with deliveries that have not succeeded only when forced.
public struct EndpointRemoval: Sendable, Hashable {
    public var endpointID: String
    /// Deliveries that have not succeeded and go with the endpoint.
    public var unfinished: Int

    public init(endpointID: String, unfinished: Int, force: Bool) throws(HooklineError) {
        guard unfinished == 0 || force else {
            throw .conflict(
                "Endpoint \(endpointID) has \(unfinished) deliveries that have not succeeded; disable it instead, or force the removal to remove it with them.")
        }
        self.endpointID = endpointID
        self.unfinished = unfinished
    }

    /// What the audit entry says was removed.
    public var auditDetail: String { "removed with \(unfinished) unfinished deliveries" }
}
