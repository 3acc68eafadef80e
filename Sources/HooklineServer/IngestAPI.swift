import Crypto
import Foundation
import HooklineCore
import Hummingbird
import Logging
import Metrics
import NIOCore
import Synchronization
import Tracing

/// The producer-facing HTTP API: `POST /v1/events`, `POST /v1/events/batch`, `GET /v1/health`,
/// `GET /metrics`. Events go through the same core function as `hookline emit`.
public final class IngestAPI: Sendable {
    public struct Configuration: Sendable {
        /// The bearer token producers send; nil only when authentication is explicitly off.
        public var token: String?
        /// The largest body of `POST /v1/events`.
        public var maximumBodyBytes: Int
        /// Events per second accepted in all, or nil for no limit.
        public var rateLimit: Double?
        /// Items per batch at most.
        public var maximumBatch: Int

        public init(token: String?, maximumBodyBytes: Int = 256 * 1024, rateLimit: Double? = nil, maximumBatch: Int = 1000) {
            self.token = token
            self.maximumBodyBytes = maximumBodyBytes
            self.rateLimit = rateLimit
            self.maximumBatch = maximumBatch
        }
    }

    /// What the health check reports besides the store.
    public typealias DispatcherProbe = @Sendable () async -> Bool

    let operations: Operations
    let configuration: Configuration
    let onAccepted: @Sendable () async -> Void
    let dispatcherRunning: DispatcherProbe
    let metricsText: @Sendable () -> [UInt8]
    let bucket: Mutex<TokenBucket?>
    /// A span per ingest request (with tracing on), whose context is kept with the events it accepts.
    let tracer: (any Tracer)?

    let management: ManagementAPI

    /// - Parameter testTransport: what the management API's test sends go out with; nil turns them off.
    /// - Parameter tracer: starts a span per ingest request, a child of the producer's `traceparent`.
    public init(
        operations: Operations, configuration: Configuration, onAccepted: @escaping @Sendable () async -> Void = {},
        dispatcherRunning: @escaping DispatcherProbe, metricsText: @escaping @Sendable () -> [UInt8],
        testTransport: (any HTTPTransport)? = nil, tracer: (any Tracer)? = nil
    ) {
        self.tracer = tracer
        self.operations = operations
        self.configuration = configuration
        self.onAccepted = onAccepted
        self.dispatcherRunning = dispatcherRunning
        self.metricsText = metricsText
        bucket = Mutex(configuration.rateLimit.map { TokenBucket(rate: $0, now: Date()) })
        management = ManagementAPI(operations: operations, testTransport: testTransport)
    }

    /// Every route of `serve --listen`, for an `Application`: ingest, health, metrics and the
    /// management API, behind bearer authentication (health and metrics are open).
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: BearerAuthentication(
            adminToken: configuration.token,
            resolveTenantToken: { [operations] value throws(HooklineError) in
                try await operations.authenticate(tokenValue: value).map { .tenant($0.tenant, tokenID: $0.id) }
            },
            openPaths: ["/v1/health", "/metrics"]))
        let api = self
        router.post("/v1/events") { request, context in await api.answer(request, context, batch: false) }
        router.post("/v1/events/batch") { request, context in await api.answer(request, context, batch: true) }
        router.get("/v1/health") { _, _ in await api.health() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: api.metricsText())))
        }
        management.register(on: router)
        return router
    }

    // MARK: Ingest

    func answer(_ request: Request, _ context: APIContext, batch: Bool) async -> Response {
        let response: Response
        if let tracer {
            response = await traced(request, context, batch: batch, tracer)
        } else {
            response = await handle(request, principal: context.principal, batch: batch)
        }
        Counter(label: "hookline_ingest_requests_total", dimensions: [("status", String(response.status.code))]).increment()
        return response
    }

    /// Handles an ingest request inside its span: a child of the producer's `traceparent` when it
    /// sent one, whose own `traceparent` goes with every event accepted.
    func traced(_ request: Request, _ context: APIContext, batch: Bool, _ tracer: any Tracer) async -> Response {
        var parent = ServiceContext.topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let route = batch ? "/v1/events/batch" : "/v1/events"
        let span = tracer.startSpan("POST \(route)", context: parent, ofKind: .server)
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: TraceHeaders.DictionaryInjector())
        let response = await handle(request, principal: context.principal, batch: batch, traceParent: carrier[TraceHeaders.traceParent])
        span.attributes["http.request.method"] = "POST"
        span.attributes["http.route"] = route
        span.attributes["http.response.status_code"] = Int(response.status.code)
        if let tenant = context.principal.tenantScope { span.attributes["hookline.tenant"] = tenant }
        if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
        return response
    }

    func handle(_ request: Request, principal: APIPrincipal, batch: Bool, traceParent: String? = nil) async -> Response {
        let operations = self.operations.acting(as: principal.auditActor)
        let limit = batch ? configuration.maximumBodyBytes * 32 : configuration.maximumBodyBytes
        var request = request
        let body: ByteBuffer
        switch await JSONRequest.body(&request, limit: limit) {
        case .success(let buffer): body = buffer
        case .failure(let refusal): return refusal.response
        }
        let idempotencyKey = request.headers[Self.idempotencyKeyField]
        if batch, idempotencyKey != nil {
            // Each item's own id is what makes a batch safe to send again.
            return Self.error(
                .badRequest, "A batch takes no Idempotency-Key; give each event its own \"id\", so that sending the batch again creates nothing twice.",
                field: "Idempotency-Key")
        }
        let parsed: [Result<EmitRequest, HooklineError>]
        do {
            parsed = try Self.parseEvents(
                body: body.readableBytesView, batch: batch, idempotencyKey: idempotencyKey,
                maximumBatch: configuration.maximumBatch, defaultTenant: principal.tenantScope ?? Tenant.defaultID
            ).map { item in
                // A tenant token's events are its tenant's; another tenant does not exist for it.
                guard case .success(let event) = item, !principal.sees(event.tenant) else { return item }
                return .failure(.notFound(kind: "tenant", id: event.tenant))
            }
        } catch {
            if case .invalidJSON = error { return Self.error(.badRequest, error.description, field: "body") }
            return Self.failure(error)
        }
        if batch {
            return await ingestBatch(parsed.map { $0.map { item in var item = item; item.traceParent = traceParent; return item } }, operations)
        }
        if case .failure(let error) = parsed.first, case .notFound = error { return APIResponse.failure(error) }
        guard parsed.count == 1, case .success(let item) = parsed[0] else {
            return Self.error(.badRequest, "The body must hold exactly one event.", field: "body")
        }
        if let wait = takeTokens(1) {
            return Self.rateLimited(wait)
        }
        do {
            let result = try await operations.emit(
                type: item.type, data: item.data, id: item.id, timestamp: item.timestamp, tenant: item.tenant, idempotencyKey: item.idempotencyKey,
                traceParent: traceParent)
            if result.wasCreated { await onAccepted() }
            return Self.json(result.wasCreated ? .accepted : .ok, Self.render(result))
        } catch {
            return Self.failure(error)
        }
    }

    /// Parses the raw body of `POST /v1/events` (`batch: false`) or `POST /v1/events/batch`
    /// (`batch: true`) into the events to accept, exactly as the routes do before storing anything.
    ///
    /// Throws for a body that cannot be used at all: malformed JSON (`.invalidJSON`), a batch that is
    /// not `{"events": [1 to maximumBatch items]}`, or a single event that is not valid
    /// (`.invalidField`). A single event returns one `.success`; a batch returns one result per item,
    /// in order, so that one bad item does not refuse the others. Checks against the catalog's
    /// required `data` fields and the id syntax are left to `Operations.prepare`.
    ///
    /// - Parameter defaultTenant: the tenant of an event that names none (a tenant token's own).
    /// - Parameter idempotencyKey: the `Idempotency-Key` header; it applies to a single event only
    ///   (a batch with one is refused before this), whose items carry their own `id`.
    public static func parseEvents(
        body: some Collection<UInt8>, batch: Bool, idempotencyKey: String?, maximumBatch: Int = 1000,
        defaultTenant: String = Tenant.defaultID
    ) throws(HooklineError) -> [Result<EmitRequest, HooklineError>] {
        let json = try JSONValue.parse(body, refusingUnsafeIntegers: true)
        guard batch else {
            return [.success(try parseItem(json, path: "", idempotencyKey: idempotencyKey, defaultTenant: defaultTenant))]
        }
        guard case .object(let object) = json, case .array(let items)? = object["events"] else {
            throw .invalidField(field: "events", sentence: "The body must be an object with an 'events' array.")
        }
        if let unknown = object.keys.first(where: { $0 != "events" }) {
            throw .invalidField(field: unknown, sentence: "Unknown field '\(unknown)'; a batch has only 'events'.")
        }
        guard !items.isEmpty, items.count <= maximumBatch else {
            throw .invalidField(field: "events", sentence: "A batch holds 1 to \(maximumBatch) events, not \(items.count).")
        }
        return items.enumerated().map { index, item in
            Result { () throws(HooklineError) in
                try parseItem(item, path: "events[\(index)].", idempotencyKey: nil, defaultTenant: defaultTenant)
            }
        }
    }

    func ingestBatch(_ items: [Result<EmitRequest, HooklineError>], _ operations: Operations) async -> Response {
        if let wait = takeTokens(items.count) {
            return Self.rateLimited(wait)
        }
        var parsed: [Int: EmitRequest] = [:]
        var results: [Int: JSONValue] = [:]
        for (index, item) in items.enumerated() {
            switch item {
            case .success(let request): parsed[index] = request
            case .failure(let error): results[index] = Self.itemError(index, error)
            }
        }
        let order = parsed.keys.sorted()
        do {
            let outcomes = try await operations.emitBatch(order.map { parsed[$0]! })
            for (index, outcome) in zip(order, outcomes) {
                switch outcome {
                case .success(let result):
                    guard case .object(var rendered) = Self.render(result) else { continue }
                    rendered["index"] = .number(Double(index))
                    rendered["status"] = .number(result.wasCreated ? 202 : 200)
                    results[index] = .object(rendered)
                case .failure(let error):
                    results[index] = Self.itemError(index, error)
                }
            }
        } catch {
            return Self.failure(error)
        }
        if outcomesCreatedAny(results) { await onAccepted() }
        let list = (0..<items.count).map { results[$0] ?? .null }
        return Self.json(.ok, .object(JSONObject([("results", .array(list))])))
    }

    private func outcomesCreatedAny(_ results: [Int: JSONValue]) -> Bool {
        results.values.contains { $0["status"] == .number(202) }
    }

    /// `{"event": TYPE, "data": {…}, "id"?: "evt_…", "timestamp"?: ISO 8601, "tenant"?: ID}`, nothing else.
    static func parseItem(_ json: JSONValue, path: String, idempotencyKey: String?, defaultTenant: String) throws(HooklineError) -> EmitRequest {
        guard case .object(let object) = json else {
            throw .invalidField(field: path.isEmpty ? "body" : String(path.dropLast()), sentence: "An event must be a JSON object, not \(json.typeName).")
        }
        for key in object.keys where !["event", "data", "id", "timestamp", "tenant"].contains(key) {
            throw .invalidField(field: path + key, sentence: "Unknown field '\(path + key)'; an event has event, data, id, timestamp and tenant.")
        }
        guard case .string(let type)? = object["event"] else {
            throw .invalidField(field: path + "event", sentence: "'\(path)event' is required and must be a string naming an event type.")
        }
        guard let data = object["data"] else {
            throw .invalidField(field: path + "data", sentence: "'\(path)data' is required and must be an object.")
        }
        var id: String?
        if let value = object["id"] {
            guard case .string(let text) = value else {
                throw .invalidField(field: path + "id", sentence: "'\(path)id' must be a string such as evt_123.")
            }
            id = text
        }
        if let key = idempotencyKey {
            try IdempotencyKey.validate(key)
            if let id, id != key {
                throw .invalidField(field: path + "id", sentence: "The Idempotency-Key header and the id field differ; send one of them, or the same value.")
            }
            id = nil
        }
        var timestamp: Date?
        if let value = object["timestamp"] {
            guard case .string(let text) = value, let date = Timestamp.parseISO8601(text) else {
                throw .invalidField(field: path + "timestamp", sentence: "'\(path)timestamp' must be an ISO 8601 time such as 2025-10-25T10:30:00Z.")
            }
            timestamp = date
        }
        var tenant = defaultTenant
        if let value = object["tenant"] {
            guard case .string(let text) = value else {
                throw .invalidField(field: path + "tenant", sentence: "'\(path)tenant' must be a string: the id of a tenant.")
            }
            do {
                try Tenant.validate(id: text)
            } catch {
                throw .invalidField(field: path + "tenant", sentence: error.description)
            }
            tenant = text
        }
        do {
            try EventCatalog.requireKnown(type)
        } catch {
            throw .invalidField(field: path + "event", sentence: error.description)
        }
        return EmitRequest(type: type, data: data, id: id, timestamp: timestamp, tenant: tenant, idempotencyKey: idempotencyKey)
    }

    /// Takes `count` tokens; nil when allowed, else how long until the next token.
    func takeTokens(_ count: Int) -> TimeInterval? {
        bucket.withLock { bucket in
            guard var current = bucket else { return nil }
            defer { bucket = current }
            for _ in 0..<count {
                if let wait = current.take(now: Date()) { return wait }
            }
            return nil
        }
    }

    /// 429 with a `Retry-After` that says when a token will be there (whole seconds, at least 1).
    static func rateLimited(_ wait: TimeInterval) -> Response {
        let seconds = max(1, Int(wait.rounded(.up)))
        return error(.tooManyRequests, "The ingest rate limit is exceeded; retry in \(seconds) s.", retryAfter: seconds)
    }

    static let idempotencyKeyField = HTTPFields.Element.Name("Idempotency-Key")!

    // MARK: Health

    func health() async -> Response {
        let running = await dispatcherRunning()
        do {
            let counts = try await operations.store.deliveryCounts()
            let open = try await operations.store.breakers().filter { $0.state != .closed }.count
            let body = JSONValue.object(JSONObject([
                ("status", .string(running ? "ok" : "unhealthy")),
                ("database", .string("ok")),
                ("dispatcher", .string(running ? "running" : "stopped")),
                ("pending", .number(Double(counts.pending))),
                ("failed", .number(Double(counts.failed))),
                ("held", .number(Double(counts.held))),
                ("open_breakers", .number(Double(open))),
            ]))
            return Self.json(running ? .ok : .serviceUnavailable, body)
        } catch {
            return Self.json(.serviceUnavailable, .object(JSONObject([
                ("status", .string("unhealthy")), ("database", .string(error.description)),
                ("dispatcher", .string(running ? "running" : "stopped")),
            ])))
        }
    }

    // MARK: Responses

    static func render(_ result: IngestResult) -> JSONValue {
        var object = JSONObject([("id", .string(result.summary.event.id)), ("deliveries", .number(Double(result.summary.deliveries)))])
        if !result.wasCreated {
            object["created"] = .bool(false)
            object["event"] = (try? JSONValue.parse(result.summary.event.payload)) ?? .null
        }
        return .object(object)
    }

    static func itemError(_ index: Int, _ error: HooklineError) -> JSONValue {
        let status = switch error {
        case .notFound: 404
        case .conflict: 409
        default: 400
        }
        var object = JSONObject([("index", .number(Double(index))), ("status", .number(Double(status))), ("error", .string(error.description))])
        if case .invalidField(let field, _) = error {
            object["field"] = .string(field.hasPrefix("events[") ? field : "events[\(index)].\(field)")
        }
        return .object(object)
    }

    static func failure(_ error: HooklineError) -> Response {
        switch error {
        // The ingest API has always answered an unknown record in an event as bad input.
        case .notFound: return Self.error(.badRequest, error.description)
        default: return APIResponse.failure(error)
        }
    }

    static func error(_ status: HTTPResponse.Status, _ sentence: String, field: String? = nil, retryAfter: Int? = nil) -> Response {
        APIResponse.error(status, sentence, field: field, retryAfter: retryAfter)
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        APIResponse.json(status, value)
    }
}
