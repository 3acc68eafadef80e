import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces for `serve --otel-endpoint`: a tracer whose spans go to an OTLP/HTTP
/// collector in the background, and the service that exports them.
///
/// Finished spans wait in a bounded queue; when it is full (a collector that is slow or down)
/// further spans are dropped, and so are the spans of a batch the collector did not take. Both
/// are counted in `hookline_trace_spans_dropped_total{reason}`; a delivery never waits for the
/// collector.
public enum TraceExport {
    /// Where and how spans are sent.
    public struct Settings: Sendable {
        /// The collector's base URL (`http://host:4318`), or its full traces URL.
        public var endpoint: String
        public var serviceName: String
        /// Finished spans kept for export at most.
        public var queueSize: Int
        /// How often a batch is sent.
        public var interval: Duration
        /// How long one export may take, retries included, before its batch is dropped.
        public var exportTimeout: Duration

        public init(endpoint: String, serviceName: String = "hookline", queueSize: Int = 2048, interval: Duration = .seconds(1), exportTimeout: Duration = .seconds(5)) {
            self.endpoint = endpoint
            self.serviceName = serviceName
            self.queueSize = queueSize
            self.interval = interval
            self.exportTimeout = exportTimeout
        }
    }

    /// The traces URL for an endpoint: `/v1/traces` on a base URL, the URL itself when it has a path.
    public static func tracesURL(_ endpoint: String) -> String {
        guard let components = URLComponents(string: endpoint), components.path.isEmpty || components.path == "/" else { return endpoint }
        return endpoint.hasSuffix("/") ? endpoint + "v1/traces" : endpoint + "/v1/traces"
    }

    /// Checks an endpoint URL; returns the sentence that says what is wrong, or nil.
    public static func problem(with endpoint: String) -> String? {
        guard let url = URLComponents(string: endpoint), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return "The OTLP endpoint '\(endpoint)' is not a URL; give the collector's OTLP/HTTP address, such as http://127.0.0.1:4318."
        }
        guard scheme == "http" || scheme == "https" else {
            return "The OTLP endpoint '\(endpoint)' uses \(scheme)://; Hookline exports OTLP over HTTP, so give an http:// or https:// URL (port 4318 by default)."
        }
        return nil
    }

    /// The tracer and its export service; run the service for as long as spans are made, and stop
    /// it last so that the final spans are sent.
    public static func make(_ settings: Settings, logger: Logger) throws -> (tracer: any Tracer, service: any Service) {
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.otlpExporter.endpoint = tracesURL(settings.endpoint)
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.timeout = settings.exportTimeout
        configuration.traces.batchSpanProcessor.maxQueueSize = settings.queueSize
        configuration.traces.batchSpanProcessor.maxExportBatchSize = min(512, settings.queueSize)
        configuration.traces.batchSpanProcessor.scheduleDelay = settings.interval
        configuration.traces.batchSpanProcessor.exportTimeout = settings.exportTimeout
        configuration.diagnosticLogLevel = .warning
        configuration.diagnosticLogger = .custom(Logger(label: "hookline.telemetry") { _ in SpanLossCounter(forwardingTo: logger) })
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (backend.factory, backend.service)
    }
}
