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

    /// The request examples of openapi.yaml, in file order, with their x-status and x-headers.
    static func openAPIExamples() throws -> [Example] {
        let text = try String(contentsOf: docs.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        guard let root = try Yams.compose(yaml: text), let paths = root["paths"]?.mapping else { return [] }
        var examples: [Example] = []
        for (pathNode, operations) in paths {
            for (methodNode, operation) in operations.mapping ?? [:] {
                guard let list = operation["requestBody"]?["content"]?["application/json"]?["examples"]?.mapping else { continue }
                for (nameNode, example) in list {
                    var headers: [(String, String)] = [("Authorization", "Bearer $TOKEN"), ("Content-Type", "application/json")]
                    for (key, value) in example["x-headers"]?.mapping ?? [:] {
                        headers.removeAll { $0.0 == key.string }
                        if let name = key.string, let text = value.string, !text.isEmpty { headers.append((name, text)) }
                    }
                    let value = try Yams.load(yaml: Yams.serialize(node: example["value"]!))
                    let body = String(decoding: try JSONSerialization.data(withJSONObject: value as Any), as: UTF8.self)
                    examples.append(Example(
                        method: methodNode.string!.uppercased(), path: pathNode.string!, headers: headers, body: body,
                        status: example["x-status"]?.int ?? 0, name: "openapi.yaml \(nameNode.string!)"))
                }
            }
        }
        return examples
    }

    @Test func everyDocumentedExampleGetsTheDocumentedAnswer() async throws {
        let markdown = try Self.markdownExamples()
        let openAPI = try Self.openAPIExamples()
        #expect(markdown.count >= 7)
        #expect(openAPI.count >= 8)
        for examples in [markdown, openAPI] {
            let api = try await RunningAPI(.init(token: IngestAPITests.token))
            for example in examples {
                let headers = example.headers.map { ($0.0, $0.1.replacingOccurrences(of: "$TOKEN", with: IngestAPITests.token)) }
                let token = headers.first { $0.0 == "Authorization" }.map { String($0.1.dropFirst("Bearer ".count)) }
                let contentType = headers.first { $0.0 == "Content-Type" }?.1 ?? "application/json"
                let extra = headers.filter { $0.0 != "Authorization" && $0.0 != "Content-Type" }
                let answer = try await api.send(example.path, get: example.method == "GET", body: example.body, token: token, contentType: contentType, headers: extra)
                #expect(answer.status == example.status, "\(example): \(answer.json.canonicalString)")
            }
            await api.stop()
        }
    }
}
