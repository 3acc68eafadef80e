import ArgumentParser
import HooklineCore

struct CatalogCommand: HooklineCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "List the event types with their required fields and an example payload each.")

    @OptionGroup var output: JSONFlag

    func execute() async throws {
        if output.json {
            let items = EventCatalog.all.map(JSONRendering.eventType)
            Output.json(.array(items))
            return
        }
        for type in EventCatalog.all {
            Output.line("\(type.name): \(type.summary)")
            Output.line("  required: " + type.requiredFields.map { "data.\($0.path) (\($0.kind.rawValue))" }.joined(separator: ", "))
            let example = try JSONValue.parse(type.exampleData)
            Output.line("  example data: " + example.canonicalString)
            Output.line()
        }
    }
}
