import ArgumentParser
import Foundation
import HooklineCore

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Add, list, show, remove and erase tenants: the customers whose endpoints receive only their own events.",
        discussion: """
            Every database has the tenant 'default', which holds the endpoints and events given no tenant.
            Example: hookline tenant add acme --name "Acme Corp" --metadata plan=pro
                     hookline tenant token acme     (a management API token that sees only acme)
            """,
        subcommands: [Add.self, List.self, Show.self, Remove.self, Erase.self, Token.self])

    struct Add: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Add a tenant; its id is your own customer id.")
        @Argument(help: "Tenant id: 1 to 128 letters, digits, '.', '_' or '-'.") var id: String
        @Option(help: "A name for people (default: the id).") var name: String?
        @Option(help: ArgumentHelp("Your own facts about the tenant, as key=value; repeat for more.", valueName: "key=value"))
        var metadata: [String] = []
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            try Tenant.validate(id: id)
            if let name { try Tenant.validate(name: name) }
            try Tenant.validate(metadata: try TenantCommand.metadata(metadata))
            let tenant = try await store.operations(creating: true).addTenant(id: id, name: name, metadata: try TenantCommand.metadata(metadata))
            if output.json {
                Output.json(JSONRendering.tenant(tenant))
            } else {
                Output.line("Added tenant \(tenant.id) (\(tenant.name)).")
                Output.line("Add its endpoints with `hookline endpoint add URL --tenant \(tenant.id)`.")
            }
        }
    }

    struct List: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants in id order, a page at a time.")
        @OptionGroup var page: LimitOption
        @OptionGroup var cursor: AfterOption
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            let tenants = try await store.operations(creating: false).tenants(after: cursor.after, limit: page.limit)
            if output.json {
                Output.json(.array(tenants.map(JSONRendering.tenant)))
                return
            }
            let rows: [[String]] = tenants.map { tenant in [tenant.id, tenant.name, Output.time(tenant.createdAt)] }
            let after = cursor.after ?? ""
            Output.table(["ID", "NAME", "CREATED"], rows, empty: "No tenants after " + after + ".")
            AfterOption.nextPageHint(shown: tenants.count, limit: page.limit, lastID: tenants.last?.id)
        }
    }

    struct Show: HooklineCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant with its endpoints.")
        @Argument(help: "Tenant id.") var id: String
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            try Tenant.validate(id: id)
            let operations = try await store.operations(creating: false)
            let tenant = try await operations.tenant(id: id)
            let endpoints = try await operations.store.endpoints(EndpointQuery(tenant: id))
            if output.json {
                guard case .object(var object) = JSONRendering.tenant(tenant) else { return }
                object["endpoints"] = .array(endpoints.map { .string($0.id) })
                Output.json(.object(object))
                return
            }
            Output.line("Tenant       \(tenant.id)")
            Output.line("Name         \(tenant.name)")
            for (index, key) in tenant.metadata.keys.sorted().enumerated() {
                let label = index == 0 ? "Metadata     " : "             "
                let value = tenant.metadata[key] ?? ""
                Output.line(label + key + "=" + value)
            }
            Output.line("Created      \(Output.time(tenant.createdAt))")
            Output.line("Endpoints    \(endpoints.isEmpty ? "none" : endpoints.map(\.id).joined(separator: ", "))")
        }
    }

    struct Remove: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a tenant with its events; never 'default', never while its deliveries are pending or sending.")
        @Argument(help: "Tenant id.") var id: String
        @Flag(help: "Remove its endpoints (and their deliveries) with it.") var force = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            try Tenant.validate(id: id)
            let removed = try await store.operations(creating: false).removeTenant(id: id, force: force)
            if output.json {
                let answer: [(String, JSONValue)] = [("id", .string(id)), ("removed", .bool(true)), ("endpoints_removed", .number(Double(removed)))]
                Output.json(.object(JSONObject(answer)))
            } else {
                Output.line("Removed tenant \(id)\(removed > 0 ? " with \(removed) endpoints" : "").")
            }
        }
    }

    struct Erase: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a tenant's data on request: every event's payload and every response excerpt.",
            discussion: """
                The tenant, its endpoints, and the ids, types, times, statuses and counts of its events, deliveries \
                and attempts stay, so the books still add up; each payload's data and each response excerpt \
                (attempts and test sends) becomes "[redacted]". Deliveries not made yet are cancelled, and no \
                redacted event is sent again. It runs 500 events per transaction, so serve keeps delivering; \
                run it again after an interruption to finish. Written to the audit log. It cannot be undone.
                Example: hookline tenant erase acme --yes
                """)
        @Argument(help: "Tenant id.") var id: String
        @Flag(help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            try Tenant.validate(id: id)
            let operations = try await store.operations(creating: false)
            _ = try await operations.tenant(id: id)
            if !yes, try !Confirmation.confirm(
                "Erasing tenant \(id)", question: "Erase every event payload and response excerpt of tenant \(id)? This cannot be undone.") {
                Output.line("Nothing erased.")
                return
            }
            let report = try await operations.eraseTenant(id)
            if output.json {
                Output.json(JSONRendering.redaction(report, tenant: id))
                return
            }
            Output.line(RedactionSummary.sentence(report, tenant: id))
        }
    }

    struct Token: HooklineCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue, list or revoke a tenant's management API tokens.",
            discussion: """
                A tenant token sees and changes only its tenant through `serve --listen`: any other tenant's
                endpoint, event or delivery answers 404. The token is shown once and kept only as a digest.
                """)
        @Argument(help: "Tenant id.") var tenant: String
        @Option(help: ArgumentHelp("Revoke this token instead of issuing one.", valueName: "tok_…")) var revoke: String?
        @Flag(help: "List the tenant's tokens instead of issuing one.") var list = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func execute() async throws {
            try Tenant.validate(id: tenant)
            if let revoke { try APIToken.validate(id: revoke) }
            guard !(list && revoke != nil) else {
                throw HooklineError.invalidInput("--list and --revoke do not go together; give one of them, or neither to issue a token.")
            }
            let operations = try await store.operations(creating: false)
            if list {
                let tokens = try await operations.tokens(tenant: tenant)
                if output.json {
                    Output.json(.array(tokens.map(JSONRendering.token)))
                } else {
                    let rows = tokens.map { [$0.id, Output.time($0.createdAt), $0.revokedAt.map(Output.time) ?? "-"] }
                    Output.table(["ID", "CREATED", "REVOKED"], rows, empty: "Tenant \(tenant) has no tokens.")
                }
            } else if let revoke {
                let token = try await operations.revokeToken(tenant: tenant, id: revoke)
                if output.json { Output.json(JSONRendering.token(token)) } else { Output.line("Revoked \(token.id) of tenant \(tenant).") }
            } else {
                let issued = try await operations.issueToken(tenant: tenant)
                if output.json {
                    guard case .object(var object) = JSONRendering.token(issued.token) else { return }
                    object["token"] = .string(issued.value)
                    Output.json(.object(object))
                } else {
                    Output.line("Issued \(issued.token.id) for tenant \(tenant):")
                    Output.line("  \(issued.value)")
                    Output.line("It is shown this once; send it as 'Authorization: Bearer TOKEN'. Revoke it with --revoke \(issued.token.id).")
                }
            }
        }
    }

    /// `key=value` pairs as metadata; a pair without `=` is refused.
    static func metadata(_ pairs: [String]) throws(HooklineError) -> [String: String] {
        var metadata: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw .invalidField(field: "metadata", sentence: "'\(Identifier.printable(pair))' is not key=value; write metadata such as --metadata plan=pro.")
            }
            metadata[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return metadata
    }
}
