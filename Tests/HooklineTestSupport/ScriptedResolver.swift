import HooklineCore
import Synchronization

/// A resolver a test scripts: each host gets its answers in turn (the last one repeats), and
/// every question is counted, as a rebinding DNS server would see them.
public final class ScriptedResolver: HostResolver {
    private let state: Mutex<(answers: [String: [[String]]], asked: [String: Int])>

    /// `answers[host]` is the list of answers, one per question; a host not listed does not resolve.
    public init(_ answers: [String: [[String]]]) {
        state = Mutex((answers, [:]))
    }

    /// Every host resolving to 127.0.0.1, always.
    public static func loopback(_ hosts: [String]) -> ScriptedResolver {
        ScriptedResolver(Dictionary(uniqueKeysWithValues: hosts.map { ($0, [["127.0.0.1"]]) }))
    }

    /// How many times `host` was resolved.
    public func questions(about host: String) -> Int {
        state.withLock { $0.asked[host] ?? 0 }
    }

    public func addresses(of host: String) async -> Result<[String], NetworkGuard.ResolutionFailure> {
        state.withLock { state in
            let asked = state.asked[host] ?? 0
            state.asked[host] = asked + 1
            guard let answers = state.answers[host], !answers.isEmpty else {
                return .failure(NetworkGuard.ResolutionFailure(reason: "Name or service not known"))
            }
            return .success(answers[min(asked, answers.count - 1)])
        }
    }
}
