import Foundation

/// A small OTLP/HTTP trace collector on 127.0.0.1: it takes `POST /v1/traces` in the protobuf
/// encoding, answers as a collector does, and decodes the spans it got (with a reader of the
/// protobuf wire format for the few OTLP fields the tests look at).
public final class OTLPCollector: Sendable {
    /// One exported span, as the tests look at it.
    public struct Span: Sendable, Hashable {
        public var traceID: String
        public var spanID: String
        /// Empty for a root span.
        public var parentSpanID: String
        public var name: String
        /// 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
        public var kind: Int
        public var attributes: [String: String]
        /// The spans it links to, as (trace id, span id), hex.
        public var links: [[String]]
        /// 0 unset, 1 ok, 2 error.
        public var statusCode: Int
        /// The resource's `service.name`.
        public var serviceName: String
    }

    let receiver: ScriptedReceiver

    public init() async throws {
        receiver = try await ScriptedReceiver { _, _ in .init(status: 200, headers: [("Content-Type", "application/x-protobuf")], body: "") }
    }

    /// The base URL to give as `--otel-endpoint`.
    public var endpoint: String { "http://127.0.0.1:\(receiver.port)" }

    /// Every span received so far, in the order they arrived.
    public var spans: [Span] {
        receiver.requests.filter { $0.path == "/v1/traces" }.flatMap { (try? Self.decode($0.body)) ?? [] }
    }

    /// The requests that did not decode, or came to another path (none, for a well-behaved exporter).
    public var malformed: Int {
        receiver.requests.filter { $0.path != "/v1/traces" || (try? Self.decode($0.body)) == nil }.count
    }

    public func stop() async { await receiver.stop() }

    // MARK: The wire format

    struct Malformed: Error {}

    /// The fields of one protobuf message: number → values (varints as UInt64, the rest as bytes).
    struct Fields {
        var varints: [Int: [UInt64]] = [:]
        var bytes: [Int: [[UInt8]]] = [:]

        init(_ data: ArraySlice<UInt8>) throws {
            var index = data.startIndex
            func varint() throws -> UInt64 {
                var value: UInt64 = 0, shift: UInt64 = 0
                while true {
                    guard index < data.endIndex, shift < 64 else { throw Malformed() }
                    let byte = data[index]
                    index += 1
                    value |= UInt64(byte & 0x7F) << shift
                    if byte & 0x80 == 0 { return value }
                    shift += 7
                }
            }
            while index < data.endIndex {
                let key = try varint()
                let field = Int(key >> 3)
                switch key & 7 {
                case 0: varints[field, default: []].append(try varint())
                case 1:
                    guard data.endIndex - index >= 8 else { throw Malformed() }
                    bytes[field, default: []].append(Array(data[index..<index + 8]))
                    index += 8
                case 2:
                    let length = Int(try varint())
                    guard length >= 0, data.endIndex - index >= length else { throw Malformed() }
                    bytes[field, default: []].append(Array(data[index..<index + length]))
                    index += length
                case 5:
                    guard data.endIndex - index >= 4 else { throw Malformed() }
                    bytes[field, default: []].append(Array(data[index..<index + 4]))
                    index += 4
                default: throw Malformed()
                }
            }
        }

        func messages(_ field: Int) throws -> [Fields] { try (bytes[field] ?? []).map { try Fields($0[...]) } }
        func string(_ field: Int) -> String { bytes[field]?.first.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        func hex(_ field: Int) -> String { bytes[field]?.first.map { $0.map { String(format: "%02x", $0) }.joined() } ?? "" }
        func int(_ field: Int) -> Int { varints[field]?.first.map { Int(truncatingIfNeeded: $0) } ?? 0 }
    }

    /// `key → value` of repeated KeyValue fields, values written as text.
    static func attributes(_ list: [Fields]) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in list {
            guard let value = try pair.messages(2).first else { continue }
            if value.bytes[1] != nil {
                result[pair.string(1)] = value.string(1)
            } else if let flag = value.varints[2]?.first {
                result[pair.string(1)] = flag == 0 ? "false" : "true"
            } else if let number = value.varints[3]?.first {
                result[pair.string(1)] = String(Int64(bitPattern: number))
            } else if let double = value.bytes[4]?.first, double.count == 8 {
                result[pair.string(1)] = String(Double(bitPattern: double.reversed().reduce(0) { $0 << 8 | UInt64($1) }))
            }
        }
        return result
    }

    /// The spans of an `ExportTraceServiceRequest`.
    public static func decode(_ body: [UInt8]) throws -> [Span] {
        var spans: [Span] = []
        for resourceSpans in try Fields(body[...]).messages(1) {
            let resource = try attributes(try resourceSpans.messages(1).first?.messages(1) ?? [])
            for scopeSpans in try resourceSpans.messages(2) {
                for span in try scopeSpans.messages(2) {
                    spans.append(Span(
                        traceID: span.hex(1), spanID: span.hex(2), parentSpanID: span.hex(4), name: span.string(5), kind: span.int(6),
                        attributes: try attributes(try span.messages(9)),
                        links: try span.messages(13).map { [$0.hex(1), $0.hex(2)] },
                        statusCode: try span.messages(15).first?.int(3) ?? 0,
                        serviceName: resource["service.name"] ?? ""))
                }
            }
        }
        return spans
    }
}
