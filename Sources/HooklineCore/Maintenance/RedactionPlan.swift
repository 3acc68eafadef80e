import Foundation

/// What an erasure covers: named events, or every event of a tenant together with the response
/// excerpts of its endpoints' test sends.
public enum RedactionScope: Sendable, Hashable {
    case events([String])
    case tenant(String)
}

/// An event as a redaction step reads it from the store.
public struct RedactionCandidate: Sendable, Hashable {
    public var id: String
    public var type: String
    public var payload: [UInt8]
    public var createdAt: Date
    public var redacted: Bool

    public init(id: String, type: String, payload: [UInt8], createdAt: Date, redacted: Bool) {
        self.id = id
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
        self.redacted = redacted
    }
}

/// A delivery not finished yet (pending, in flight or held) of an event being redacted.
public struct UnfinishedDelivery: Sendable, Hashable {
    public var id: String
    public var endpointID: String
    public var status: DeliveryStatus

    public init(id: String, endpointID: String, status: DeliveryStatus) {
        self.id = id
        self.endpointID = endpointID
        self.status = status
    }
}

/// What one redaction step did.
public struct RedactionStep: Sendable, Hashable {
    /// Events whose payload was replaced in this step.
    public var redacted: [String] = []
    /// Events that had been redacted before (left as they were).
    public var alreadyRedacted: [String] = []
    /// Named events that do not exist.
    public var missing: [String] = []
    /// Deliveries that were not made yet and now never will be (marked failed).
    public var cancelledDeliveries = 0
    /// Attempt and test-send response excerpts replaced by the marker.
    public var clearedResponses = 0
    /// Where a tenant's next step starts; nil when it was the last.
    public var next: PruneCursor?

    public init() {}
}

/// What redacting some events changes, decided without a database: each event's payload becomes
/// its envelope with `data` replaced by a marker (id, type, timestamp kept), its unfinished
/// deliveries become failed (a redacted payload is never sent), and one audit entry names them.
///
/// Ids, statuses of finished deliveries, attempts, timestamps and counts stay as they were, so the
/// history, the console and `stats` still add up.
public struct RedactionPlan: Sendable {
    /// What replaces a payload's data and every response excerpt.
    public static let marker = "[redacted]"
    /// The error a delivery cancelled by a redaction carries.
    public static let cancelledError = "The event was redacted before this delivery was made, so it is never sent."

    /// An event's new stored payload.
    public struct Rewrite: Sendable, Hashable {
        public var eventID: String
        public var payload: [UInt8]
    }

    public var rewrites: [Rewrite] = []
    /// Deliveries to mark failed with ``cancelledError``.
    public var cancel: [String] = []
    public var counts = DeliveryCountChanges()
    /// Nil when nothing was redacted.
    public var audit: AuditEntry?
    public var step = RedactionStep()

    /// - Parameters:
    ///   - requested: the ids asked for (for `.events`), to report the missing ones; nil for a tenant.
    ///   - candidates: the events the store found, in the order to report them.
    ///   - unfinished: the unfinished deliveries of those candidates.
    public init(requested: [String]?, candidates: [RedactionCandidate], unfinished: [UnfinishedDelivery], audit: AuditEntry) {
        let found = Set(candidates.map(\.id))
        if let requested {
            var seen = Set<String>()
            step.missing = requested.filter { !found.contains($0) && seen.insert($0).inserted }
        }
        var redacting = Set<String>()
        for candidate in candidates {
            if candidate.redacted {
                step.alreadyRedacted.append(candidate.id)
            } else if redacting.insert(candidate.id).inserted {
                rewrites.append(Rewrite(eventID: candidate.id, payload: Self.redactedEnvelope(candidate)))
                step.redacted.append(candidate.id)
            }
        }
        for delivery in unfinished where delivery.status != .succeeded && delivery.status != .failed {
            cancel.append(delivery.id)
            counts.move(delivery.endpointID, from: delivery.status, to: .failed)
        }
        step.cancelledDeliveries = cancel.count
        if !step.redacted.isEmpty {
            var entry = audit
            entry.targetIDs = step.redacted
            let cancelled = cancel.isEmpty ? "" : ", \(cancel.count) unsent \(cancel.count == 1 ? "delivery" : "deliveries") cancelled"
            entry.detail = (entry.detail.isEmpty ? "" : entry.detail + ": ")
                + "\(step.redacted.count) \(step.redacted.count == 1 ? "event" : "events") redacted" + cancelled
            self.audit = entry
        }
    }

    /// The envelope `{"event","id","timestamp","data"}` with the data replaced by the marker; the
    /// timestamp is the producer's when the stored envelope has one.
    public static func redactedEnvelope(_ event: RedactionCandidate) -> [UInt8] {
        let stored = try? JSONValue.parse(event.payload)
        let timestamp = stored?["timestamp"]?.stringValue ?? Timestamp.iso8601(event.createdAt)
        return JSONValue.object(JSONObject([
            ("event", .string(event.type)),
            ("id", .string(event.id)),
            ("timestamp", .string(timestamp)),
            ("data", .string(marker)),
        ])).canonicalBytes
    }
}
