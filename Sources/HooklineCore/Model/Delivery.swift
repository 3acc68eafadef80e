import Foundation

/// Where a delivery is in its life.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for its next attempt (the first one, or a scheduled retry).
    case pending
    /// Claimed by a dispatcher under a lease; an attempt is in flight.
    case sending
    /// A 2xx was received.
    case succeeded
    /// Attempts are exhausted or the delivery was aborted; an operator may redeliver it.
    case failed
    /// The endpoint is disabled: kept, never dropped, released on re-enable or redelivery.
    case held
}

extension DeliveryStatus {
    /// A status read from a database: a value this build does not know is an error, never taken
    /// for another status.
    public init(stored: String) throws(HooklineError) {
        guard let status = DeliveryStatus(rawValue: stored) else {
            throw HooklineError.unknownStoredValue(column: "delivery.status", value: stored)
        }
        self = status
    }
}

/// One event on its way to one endpoint.
public struct Delivery: Sendable, Hashable {
    /// `dlv_` + ULID.
    public var id: String
    public var eventID: String
    public var endpointID: String
    public var status: DeliveryStatus
    /// Attempts made so far.
    public var attempts: Int
    /// When the next attempt is due, for `pending` deliveries.
    public var nextAttemptAt: Date?
    /// Until when the claiming dispatcher owns it, for `sending` deliveries.
    public var leaseUntil: Date?
    public var lastStatusCode: Int?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, eventID: String, endpointID: String, status: DeliveryStatus, attempts: Int = 0,
        nextAttemptAt: Date?, leaseUntil: Date? = nil, lastStatusCode: Int? = nil, lastError: String? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.eventID = eventID
        self.endpointID = endpointID
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.leaseUntil = leaseUntil
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
