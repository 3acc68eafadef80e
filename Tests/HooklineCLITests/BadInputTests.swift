import Foundation
import Testing

/// Each bad input gets one sentence on stderr, a non-zero exit, and leaves the database as it was.
@Suite struct BadInputTests {
    struct Row: CustomStringConvertible, Sendable {
        var arguments: [String]
        var stdin: String?
        var message: String
        var exitCode: Int32

        var description: String { arguments.joined(separator: " ") }
    }

    static let rows: [Row] = [
        Row(arguments: ["emit", "case.exploded", "--data", "{}"], message: "Unknown event type 'case.exploded'", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", #"{"case": {"id": }"#], message: "The JSON is malformed: unexpected character '}' at line 1, column 17", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "[1,2,3]"], message: "The data of a case.created event must be a JSON object, not array.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", #"{"case":{"id":"c","user_id":"u","status":"a","risk_level":"h","trigger_event":{"type":"t"},"customer":{"email":"e"}}}"#],
            message: "data.case.customer.id is required for case.created.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "@missing.json"], message: "The --data file 'missing.json' does not exist.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "-"], stdin: "", message: "The JSON is malformed: empty input", exitCode: 64),
        Row(arguments: ["emit", "case.lost", "--id", "evt_'; DROP TABLE event;--", "--data", "{}"], message: "is not a valid event id", exitCode: 64),
        Row(arguments: ["endpoint", "show", "ep_01NOSUCHENDPOINT"], message: "No endpoint with id 'ep_01NOSUCHENDPOINT' exists", exitCode: 66),
        Row(arguments: ["endpoint", "enable", "ep_01NOSUCHENDPOINT"], message: "No endpoint with id 'ep_01NOSUCHENDPOINT' exists", exitCode: 66),
        Row(arguments: ["endpoint", "remove", "ep_01NOSUCHENDPOINT"], message: "No endpoint with id 'ep_01NOSUCHENDPOINT' exists", exitCode: 66),
        Row(arguments: ["event", "show", "evt_01NOSUCHEVENT"], message: "No event with id 'evt_01NOSUCHEVENT' exists", exitCode: 66),
        Row(arguments: ["attempts", "dlv_01NOSUCHDELIVERY"], message: "No delivery with id 'dlv_01NOSUCHDELIVERY' exists", exitCode: 66),
        Row(arguments: ["endpoint", "add", "ftp://example.com/hook"], message: "The endpoint URL must use http or https, not 'ftp'.", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https:///hook"], message: "has no host", exitCode: 64),
        Row(arguments: ["endpoint", "add", "example.com/hook"], message: "is not an absolute URL", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--secret", ""], message: "The secret is empty", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--secret", "hunter2"], message: "The secret is 7 characters long; give at least 24", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--events", "case.created,case.nope"], message: "Unknown event type 'case.nope'", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--rate-limit", "0"], message: "The rate limit must be", exitCode: 64),
        Row(arguments: ["deliveries", "--status", "lost"], message: "'lost' is not a delivery status", exitCode: 64),
        Row(arguments: ["stats", "--since", "yesterday"], message: "--since 'yesterday' is not a duration; write it with a unit", exitCode: 64),
        Row(arguments: ["stats", "--limit", "0"], message: "--limit must be between 1 and 10000, not 0.", exitCode: 64),
        Row(arguments: ["stats", "--tenant", "no-such-tenant"], message: "No tenant with id 'no-such-tenant' exists; list them with `hookline tenant list`.", exitCode: 66),
        Row(arguments: ["events", "--db", "/no/such/dir/hookline.db"], message: "The directory of the database path '/no/such/dir/hookline.db' does not exist", exitCode: 66),
        Row(arguments: ["endpoint", "add", "https://example.com", "--db", "/no/such/dir/hookline.db"], message: "does not exist; create it or pass another --db", exitCode: 66),
        Row(arguments: ["endpoint", "list", "--db", "notes.txt"], message: "'notes.txt' is not a Hookline database (it is not an SQLite file)", exitCode: 65),
        Row(arguments: ["emit", "case.lost", "--data", "{}", "--db", "notes.txt"], message: "is not a Hookline database", exitCode: 65),
        Row(arguments: ["events", "--db", "fresh.db"], message: "No Hookline database at 'fresh.db'", exitCode: 66),
        Row(arguments: ["serve", "--drain", "--retry-schedule", "0s,5x"], message: "'5x' in the retry schedule is not a duration", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--timeout", "15s", "--lease", "20s"], message: "must be more than twice the request timeout", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--timeout", "soon"], message: "--timeout 'soon' is not a duration", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--concurrency", "0"], message: "--concurrency is '0'; it must be at least 1.", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--breaker-ratio", "2"], message: "--breaker-ratio is '2'; it must be above 0 and at most 1.", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--log-format=yaml"], message: "--log-format must be text or json, not 'yaml'.", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--read-timeout", "0s"], message: "--read-timeout is '0s'; it must be above 0.", exitCode: 64),
        Row(arguments: ["redeliver", "dlv_01NOSUCHDELIVERY"], message: "No delivery with id 'dlv_01NOSUCHDELIVERY' exists", exitCode: 66),
        Row(arguments: ["redeliver", "--endpoint", "ep_01NOSUCHENDPOINT", "--failed", "--yes"], message: "No endpoint with id 'ep_01NOSUCHENDPOINT' exists", exitCode: 66),
        Row(arguments: ["redeliver", "--endpoint", "ep_01X", "--failed", "--since", "last tuesday", "--yes"], message: "--since 'last tuesday' is neither a time", exitCode: 64),
        Row(arguments: ["breaker", "reset", "ep_01NOSUCHENDPOINT"], message: "No endpoint with id 'ep_01NOSUCHENDPOINT' exists", exitCode: 66),
        Row(arguments: ["endpoint", "test", "ep_01NOSUCHENDPOINT"], message: "No endpoint with id 'ep_01NOSUCHENDPOINT' exists", exitCode: 66),
        Row(arguments: ["endpoint", "test", "ep_01NOSUCHENDPOINT", "--timeout", "0s"], message: "--timeout '0s' must be a duration above 0", exitCode: 64),
        Row(arguments: ["endpoint", "test", "ep_01NOSUCHENDPOINT", "--proxy", "http://"], message: "--proxy: the proxy URL http:// names no host", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--proxy", "socks5://p:1080"], message: "uses socks5://, and only http:// proxies (which tunnel HTTPS with CONNECT) are supported", exitCode: 64),
        Row(arguments: ["events", "--db", "postgres://127.0.0.1:5432"], message: "The PostgreSQL URL names no database", exitCode: 64),
        Row(arguments: ["events", "--db", "postgres://127.0.0.1:1/hookline"], message: "A PostgreSQL database needs HOOKLINE_SECRET_KEY", exitCode: 64),
        Row(arguments: ["events", "--db", "postgres://127.0.0.1:5432/hookline?sslmode=maybe"], message: "sslmode 'maybe' is not supported", exitCode: 64),
        Row(arguments: ["backup", "--to", "notes.txt"], message: "'notes.txt' already exists; a backup never replaces a file", exitCode: 64),
        Row(arguments: ["backup", "--to", "/no/such/dir/copy.db"], message: "The directory of the backup path '/no/such/dir/copy.db' does not exist", exitCode: 64),
        Row(arguments: ["backup", "--to", ""], message: "The backup path is empty", exitCode: 64),
        Row(arguments: ["backup", "--to", "copy.db", "--db", "fresh.db"], message: "No Hookline database at 'fresh.db'", exitCode: 66),
        Row(arguments: ["backup", "--to", "copy.db", "--db", "postgres://127.0.0.1:1/hookline"], message: "A PostgreSQL database needs HOOKLINE_SECRET_KEY", exitCode: 64),
        Row(arguments: ["event", "redact", "evt_01NOSUCHEVENT", "--yes"], message: "No event with id 'evt_01NOSUCHEVENT' exists", exitCode: 66),
        Row(arguments: ["event", "redact", "dlv_01X", "--yes"], message: "'dlv_01X' is not a valid event id", exitCode: 64),
        Row(arguments: ["event", "redact", "evt_01NOSUCHEVENT"], message: "No event with id 'evt_01NOSUCHEVENT' exists", exitCode: 66),
        Row(arguments: ["tenant", "erase", "initech", "--yes"], message: "No tenant with id 'initech' exists", exitCode: 66),
        Row(arguments: ["tenant", "erase", "default"], message: "Erasing tenant default needs confirmation; pass --yes when not at a terminal.", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--otel-endpoint", "grpc://collector:4317"], message: "Hookline exports OTLP over HTTP, so give an http:// or https:// URL", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--otel-endpoint", "collector"], message: "The OTLP endpoint 'collector' is not a URL", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--propagate-trace"], message: "--propagate-trace sends the attempts' trace context, which needs --otel-endpoint URL.", exitCode: 64),
        Row(arguments: ["prune", "--older-than", "a while"], message: "--older-than 'a while' is not a duration", exitCode: 64),
        Row(arguments: ["prune", "--older-than=-5d"], message: "--older-than '-5d' is not a duration", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--retention", "forever"], message: "--retention 'forever' must be a duration of at least 1s", exitCode: 64),
        Row(arguments: ["serve", "--drain", "--alert-url", "ftp://alerts.example.com/x"], message: "The alert URL must be a full http:// or https:// URL", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "-"], stdin: String(repeating: "[", count: 600),
            message: "The JSON is malformed: nesting deeper than 512 levels at line 1, column 513.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "-"], stdin: #"{"case":""# + String(repeating: "x", count: 1 << 20) + #""}"#,
            message: "bytes long; the limit is 262144 bytes, so send less data.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "@invalid-utf8.json"], message: "The JSON is malformed: invalid UTF-8 at byte 6.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", "-"], stdin: "{\"a\":\"x\u{0}y\"}",
            message: "The JSON is malformed: unescaped control character U+0000 in string", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", #"{"case":"x"}"#], message: "data.case must be an object for case.created, not string.", exitCode: 64),
        Row(arguments: ["emit", "case.created", "--data", #"{"n":1e400}"#], message: "number 1e400 at line 1, column 6 is out of range", exitCode: 64),
        Row(arguments: ["endpoint", "show", "ep_x' OR '1'='1"], message: "is not a valid endpoint id", exitCode: 64),
        Row(arguments: ["events", "--db", "../../../../../../../../etc/passwd"], message: "is not a Hookline database (it is not an SQLite file)", exitCode: 65),
        Row(arguments: ["events", "--db", ""], message: "The database path is empty; pass --db PATH or set HOOKLINE_DB.", exitCode: 64),
        Row(arguments: ["events", "--db", "corrupt.db"], message: "'corrupt.db' is not a Hookline database", exitCode: 65),
        Row(arguments: ["endpoint", "list", "--db", "."], message: "is a directory; give a file path", exitCode: 64),
        Row(arguments: ["tenant", "add", "acme corp"], message: "'acme corp' is not a tenant id; use 1 to 128 letters", exitCode: 64),
        Row(arguments: ["tenant", "add", "acme", "--metadata", "plan"], message: "'plan' is not key=value", exitCode: 64),
        Row(arguments: ["tenant", "show", "initech"], message: "No tenant with id 'initech' exists", exitCode: 66),
        Row(arguments: ["tenant", "remove", "initech"], message: "No tenant with id 'initech' exists", exitCode: 66),
        Row(arguments: ["tenant", "remove", "default", "--force"], message: "The tenant 'default' holds every endpoint given no tenant and cannot be removed.", exitCode: 75),
        Row(arguments: ["emit", "case.lost", "--data", #"{"case":{"id":"c"},"loss_details":{"lost_at":"x","reason":"y"}}"#, "--tenant", "initech"], message: "There is no tenant 'initech'; create it first", exitCode: 64),
        Row(arguments: ["emit", "case.lost", "--data", #"{"case":{"id":"c"},"loss_details":{"lost_at":"x","reason":"y"}}"#, "--tenant", "../etc"], message: "'../etc' is not a tenant id", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--tenant", "initech"], message: "There is no tenant 'initech'", exitCode: 64),
        Row(arguments: ["endpoint", "list", "--tenant", "initech"], message: "No tenant with id 'initech' exists", exitCode: 66),
        Row(arguments: ["endpoint", "add", "https://example.com", "--header", "X-Webhook-Signature: forged"],
            message: "The header 'X-Webhook-Signature' is set by Hookline and cannot be replaced", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--header", "no colon here"], message: "'no colon here' is not a header; write it as 'Name: value'.", exitCode: 64),
        Row(arguments: ["endpoint", "add", "https://example.com", "--header", "X-A: 1", "--header", "x-a: 2"], message: "The header 'x-a' is given twice", exitCode: 64),
    ]

    @Test(arguments: rows)
    func isRefusedInOneSentenceAndChangesNothing(_ row: Row) async throws {
        let cli = CLI()
        defer { cli.remove() }
        let added = try await cli.run(["endpoint", "add", "https://example.com/hook", "--json"])
        #expect(added.status == 0)
        try await cli.run(["emit", "case.lost", "--data", #"{"case":{"id":"c"},"loss_details":{"lost_at":"x","reason":"y"}}"#])
        let notes = cli.directory + "/notes.txt"
        try Data("my notes\n".utf8).write(to: URL(fileURLWithPath: notes))
        try Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]).write(to: URL(fileURLWithPath: cli.directory + "/invalid-utf8.json"))
        // An SQLite header followed by garbage: a damaged file, which must be refused as it is.
        let corrupt = Data("SQLite format 3\u{0}".utf8) + Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        try corrupt.write(to: URL(fileURLWithPath: cli.directory + "/corrupt.db"))
        let before = try cli.snapshot()

        let result = try await cli.run(row.arguments, stdin: row.stdin)

        #expect(result.status == row.exitCode, "exit code of `\(row)`: \(result.stderr)")
        #expect(result.stderr.hasPrefix("hookline: "), "stderr of `\(row)`: \(result.stderr)")
        #expect(result.stderr.contains(row.message), "stderr of `\(row)`: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try cli.snapshot() == before, "database unchanged by `\(row)`")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: cli.directory + "/corrupt.db")) == corrupt, "a damaged file is left as it was")
        #expect(!FileManager.default.fileExists(atPath: cli.directory + "/fresh.db"))
    }
}
