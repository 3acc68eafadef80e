@testable import hookline
import HooklineCore
import HooklineTelemetry
import Testing

/// `serve`'s settings are defined once: the flag, its help and default, and the config key come
/// from one definition (in-process parse tests, no process started).
@Suite struct ServeSettingsParseTests {
    @Test func helpShowsEachDefaultFromItsDefinition() {
        let help = Hookline.helpMessage(for: ServeCommand.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("--timeout <duration>"))
        #expect(help.contains("Whole-request time limit (default 15s)."))
        #expect(help.contains("(default 0s,5s,5m,30m,2h,5h,10h,10h)"))
        #expect(help.contains("--read-timeout <duration>"))
        #expect(help.contains("--max-connections <n>"))
        #expect(Hookline.helpMessage(for: RedeliverCommand.self).contains("<delivery-ids>"))
    }

    @Test func everyFlagOfServeHasAConfigKeyAndEveryKeyAFlag() throws {
        let help = Hookline.helpMessage(for: ServeCommand.self)
        let keys = ServeSettingList.all.map(\.key)
        #expect(Set(keys).count == keys.count)
        for key in keys {
            #expect(help.contains("--" + key.replacingOccurrences(of: "_", with: "-")), "\(key) has no flag")
        }
    }

    @Test func aFlagWinsOverTheFileAndTheFileOverTheDefault() throws {
        var file = ServeSettings(path: "serve.yaml")
        file.values["timeout"] = ("3s", 4)
        #expect(try ServeSettingList.timeout.value(nil, ServeSettings()) == 15)
        #expect(try ServeSettingList.timeout.value(nil, file) == 3)
        #expect(try ServeSettingList.timeout.value("7s", file) == 7)
        file.values["timeout"] = ("0s", 4)
        #expect(throws: HooklineError.self) { try ServeSettingList.timeout.value(nil, file) }
        let command = try ServeCommand.parse(["--log-format=json", "--timeout=2s"])
        #expect(try command.logDestination() == .jsonStandardError)
        #expect(command.timeout == "2s")
    }

    @Test func tracingIsOffUnlessAnEndpointIsGivenByFlagOrFile() throws {
        #expect(try ServeCommand.parse([]).makeTracing(ServeSettings()) == nil)
        var file = ServeSettings(path: "serve.yaml")
        file.values["otel_endpoint"] = ("http://collector:4318", 3)
        file.values["propagate_trace"] = ("true", 4)
        let fromFile = try #require(try ServeCommand.parse([]).makeTracing(file))
        #expect(fromFile.endpoint == "http://collector:4318" && fromFile.propagate)
        let flag = try #require(try ServeCommand.parse(["--otel-endpoint", "https://otel.example.com/v1/traces"]).makeTracing(file))
        #expect(flag.endpoint == "https://otel.example.com/v1/traces", "the flag wins")
        #expect(TraceExport.tracesURL("http://collector:4318") == "http://collector:4318/v1/traces")
        #expect(TraceExport.tracesURL("http://collector:4318/") == "http://collector:4318/v1/traces")
        #expect(TraceExport.tracesURL("https://otel.example.com/custom/traces") == "https://otel.example.com/custom/traces")
    }
}
