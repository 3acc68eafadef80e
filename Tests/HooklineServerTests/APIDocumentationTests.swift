import Foundation
import HooklineCore
import Testing
import Yams

/// Every request example in docs/API.md and docs/openapi.yaml, sent to a live API, gets the answer
/// the document says.
@Suite struct APIDocumentationTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs")

    struct Example: CustomStringConvertible {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: String?
        var status: Int
        var name: String
        var description: String { "\(name): \(method) \(path) → \(status)" }
    }

    /// The ```http blocks of API.md, each followed by a line `→ STATUS …`.
    static func markdownExamples() throws -> [Example] {
        let text = try String(contentsOf: docs.appendingPathComponent("API.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        var examples: [Example] = []
        var index = 0
        while index < lines.count {
            guard lines[index] == "```http" else { index += 1; continue }
            var block: [String] = []
            index += 1
            while index < lines.count, lines[index] != "```" { block.append(lines[index]); index += 1 }
            index += 1
            let answer = lines[index...].first { !$0.isEmpty } ?? ""
            let request = block[0].split(separator: " ")
            var headers: [(String, String)] = []
            var body: String?
            for (offset, line) in block.dropFirst().enumerated() {
                if line.isEmpty {
                    body = block.dropFirst(offset + 2).joined(separator: "\n")
                    break
                }
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                headers.append((parts[0], parts[1]))
            }
            let status = Int(answer.dropFirst(2).prefix(3)) ?? 0
            examples.append(Example(method: String(request[0]), path: String(request[1]), headers: headers, body: body, status: status, name: "API.md #\(examples.count + 1)"))
        }
        return examples
    }

    /// The request examples of openapi.yaml, in file order: each operation's request body examples
    /// (with `x-status`, and `x-headers` and `x-path` where they differ from the defaults), and
    /// its `x-examples` for a request with no body.
    static func openAPIExamples() throws -> [Example] {
        let text = try String(contentsOf: docs.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        guard let root = try Yams.compose(yaml: text), let paths = root["paths"]?.mapping else { return [] }
        var examples: [Example] = []
        func headers(_ node: Node?) -> [(String, String)] {
            var headers: [(String, String)] = [("Authorization", "Bearer $TOKEN"), ("Content-Type", "application/json")]
            for (key, value) in node?.mapping ?? [:] {
                headers.removeAll { $0.0 == key.string }
                if let name = key.string, let text = value.string, !text.isEmpty { headers.append((name, text)) }
            }
            return headers
        }
        for (pathNode, operations) in paths {
            for (methodNode, operation) in operations.mapping ?? [:] {
                let method = methodNode.string!.uppercased()
                for (nameNode, example) in operation["requestBody"]?["content"]?["application/json"]?["examples"]?.mapping ?? [:] {
                    let value = try Yams.load(yaml: Yams.serialize(node: example["value"]!))
                    let body = String(decoding: try JSONSerialization.data(withJSONObject: value as Any), as: UTF8.self)
                    examples.append(Example(
                        method: method, path: example["x-path"]?.string ?? pathNode.string!, headers: headers(example["x-headers"]), body: body,
                        status: example["x-status"]?.int ?? 0, name: "openapi.yaml \(nameNode.string!)"))
                }
                for (index, example) in (operation["x-examples"]?.sequence ?? []).enumerated() {
                    examples.append(Example(
                        method: method, path: example["path"]?.string ?? pathNode.string!, headers: headers(example["headers"]), body: nil,
                        status: example["status"]?.int ?? 0, name: "openapi.yaml \(method) \(pathNode.string!) #\(index + 1)"))
                }
            }
        }
        return examples
    }

    /// The operations openapi.yaml describes, as `METHOD /path/{param}`.
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: docs.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        guard let root = try Yams.compose(yaml: text), let paths = root["paths"]?.mapping else { return [] }
        var operations: Set<String> = []
        for (pathNode, methods) in paths {
            for (methodNode, _) in methods.mapping ?? [:] where methodNode.string != "parameters" {
                operations.insert("\(methodNode.string!.uppercased()) \(pathNode.string!)")
            }
        }
        return operations
    }

    /// The ids an answer names, by the variable examples use for them: `$ENDPOINT` for the first
    /// `ep_…` id in it, `$EVENT` for `evt_…`, `$DELIVERY` for `dlv_…`.
    static func capture(_ json: JSONValue, into variables: inout [String: String]) {
        var found: [String: String] = [:]
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let object):
                for key in object.keys {
                    guard let member = object[key] else { continue }
                    if key == "id", case .string(let id) = member {
                        for (prefix, name) in [("ep_", "$ENDPOINT"), ("evt_", "$EVENT"), ("dlv_", "$DELIVERY")] where id.hasPrefix(prefix) && found[name] == nil {
                            found[name] = id
                        }
                    }
                    walk(member)
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(json)
        variables.merge(found) { _, new in new }
    }

    @Test func everyDocumentedExampleGetsTheDocumentedAnswer() async throws {
        let markdown = try Self.markdownExamples()
        let openAPI = try Self.openAPIExamples()
        #expect(markdown.count >= 20)
        #expect(openAPI.count >= 30)
        for examples in [markdown, openAPI] {
            let api = try await RunningAPI(.init(token: IngestAPITests.token))
            var variables = ["$TOKEN": IngestAPITests.token]
            func substitute(_ text: String) -> String {
                variables.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            }
            for example in examples {
                let headers = example.headers.map { ($0.0, substitute($0.1)) }
                let token = headers.first { $0.0 == "Authorization" }.map { String($0.1.dropFirst("Bearer ".count)) }
                let contentType = headers.first { $0.0 == "Content-Type" }?.1 ?? "application/json"
                let extra = headers.filter { $0.0 != "Authorization" && $0.0 != "Content-Type" }
                let answer = try await api.send(
                    substitute(example.path), method: example.method, body: example.body.map(substitute), token: token,
                    contentType: contentType, headers: extra)
                #expect(answer.status == example.status, "\(example): \(answer.json.canonicalString)")
                Self.capture(answer.json, into: &variables)
            }
            await api.stop()
        }
    }

    @Test func everyRouteTheServerAnswersIsDocumented() async throws {
        let api = try await RunningAPI(.init(token: IngestAPITests.token))
        let routes = api.routes.map { $0.replacingOccurrences(of: #":([a-z_]+)"#, with: "{$1}", options: .regularExpression) }
        await api.stop()
        let documented = try Self.documentedOperations()
        #expect(routes.count >= 25)
        for route in routes {
            #expect(documented.contains(route), "\(route) is answered but not in docs/openapi.yaml")
        }
        for operation in documented {
            #expect(routes.contains(operation), "\(operation) is in docs/openapi.yaml but not answered")
        }
        let markdown = try String(contentsOf: Self.docs.appendingPathComponent("API.md"), encoding: .utf8)
        for route in routes {
            #expect(markdown.contains("`\(route)`"), "\(route) has no section in docs/API.md")
        }
    }
}
