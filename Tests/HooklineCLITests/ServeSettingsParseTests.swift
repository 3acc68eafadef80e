@testable import hookline
import HooklineCore
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
}
