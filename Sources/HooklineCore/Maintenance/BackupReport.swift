import Foundation

/// What `hookline backup` made.
public struct BackupReport: Sendable, Hashable {
    /// Where the endpoint secrets' key went, or that it stays with the operator.
    public enum Key: Sendable, Hashable {
        /// The key file was copied beside the backup, to this path.
        case copied(path: String)
        /// The secrets are sealed with the key in this environment variable; it is not in any file.
        case environment(variable: String)
    }

    /// What opening the copy found.
    public struct Verification: Sendable, Hashable {
        /// `PRAGMA integrity_check`'s answer: `ok`, or its first complaints.
        public var integrity: String
        /// Events in the copy.
        public var events: Int
        /// Deliveries in the copy.
        public var deliveries: Int

        public init(integrity: String, events: Int, deliveries: Int) {
            self.integrity = integrity
            self.events = events
            self.deliveries = deliveries
        }
    }

    public var path: String
    public var bytes: Int64
    public var key: Key
    public var seconds: Double
    /// Nil unless asked for.
    public var verification: Verification?

    public init(path: String, bytes: Int64, key: Key, seconds: Double, verification: Verification?) {
        self.path = path
        self.bytes = bytes
        self.key = key
        self.seconds = seconds
        self.verification = verification
    }
}
