import Logging
import Metrics

/// The log handler of swift-otel's own diagnostics: it counts the spans the exporter lost (a
/// full queue, a batch the collector did not take) into `hookline_trace_spans_dropped_total`, and
/// passes each diagnostic on to Hookline's log at info level.
struct SpanLossCounter: LogHandler {
    /// swift-otel 1.6's messages for the two losses, and the metadata that holds their counts.
    static let queueFull = "Spans were dropped this iteration because queue was full"
    static let exportFailed = "Failed to export batch."

    let target: Logger
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    init(forwardingTo target: Logger) {
        self.target = target
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = event.message.description
        func count(_ key: String) -> Int { all[key].flatMap { Int("\($0)") } ?? 0 }
        if text == Self.queueFull {
            Counter(label: "hookline_trace_spans_dropped_total", dimensions: [("reason", "queue_full")]).increment(by: count("dropped_count"))
        } else if text == Self.exportFailed {
            Counter(label: "hookline_trace_spans_dropped_total", dimensions: [("reason", "export_failed")]).increment(by: count("batch_size"))
        }
        var forwarded: Logger.Metadata = ["telemetry.message": "\(text)"]
        for (key, value) in all { forwarded["telemetry." + key] = value }
        target.info("trace export problem", metadata: forwarded)
    }
}
