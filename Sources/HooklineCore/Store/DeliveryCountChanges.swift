/// Changes to the `delivery_count` table, gathered while a transaction changes deliveries and
/// written once at its end.
///
/// The console's counts are then a few key lookups instead of a scan of every pending, failed and
/// held delivery (40 ms on four million rows). Row triggers did the same at the cost of a trigger per
/// delivery row, which halved ingest; one upsert per (endpoint, status) per transaction costs
/// almost nothing. Every statement that inserts, deletes or changes the status of a delivery must
/// record its change here (each back end writes them with its own `save`); `DeliveryCountTests` checks the counts against a real count.
public struct DeliveryCountChanges: Sendable {
    public init() {}

    private struct Key: Hashable {
        var endpointID: String
        var status: DeliveryStatus
    }

    private var deltas: [Key: Int] = [:]

    /// The non-zero changes, in endpoint and status order.
    public var entries: [(endpointID: String, status: DeliveryStatus, delta: Int)] {
        deltas.filter { $0.value != 0 }.map { ($0.key.endpointID, $0.key.status, $0.value) }
            .sorted { ($0.endpointID, $0.status.rawValue) < ($1.endpointID, $1.status.rawValue) }
    }

    /// `count` deliveries appeared with this status (or disappeared, when negative).
    public mutating func add(_ endpointID: String, _ status: DeliveryStatus, _ count: Int = 1) {
        guard count != 0 else { return }
        deltas[Key(endpointID: endpointID, status: status), default: 0] += count
    }

    /// `count` deliveries changed from one status to another.
    public mutating func move(_ endpointID: String, from old: DeliveryStatus, to new: DeliveryStatus, _ count: Int = 1) {
        guard old != new else { return }
        add(endpointID, old, -count)
        add(endpointID, new, count)
    }
}
