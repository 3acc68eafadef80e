// libFuzzer target: the ingest API's body parsing (`POST /v1/events` and `/v1/events/batch`),
// through `IngestAPI.parseEvents`, the function the routes call, then the core's own checks
// (`Operations.prepare`: catalog, id syntax, envelope size) on every event it accepts.
//
// Every input is tried as a single event (without and with an Idempotency-Key) and as a batch.
// Each must end in results or a HooklineError that reads as a sentence; a crash or trap is a bug.
// An event that `prepare` accepts must have a canonical envelope that carries `data` unchanged.

import Foundation
import CLibFuzzer
import HooklineCore
import HooklineServer

/// `prepare` never touches the store, but `Operations` needs one: a scratch SQLite file.
private let operations: Operations = {
    let directory = NSTemporaryDirectory() + "hookline-fuzz-\(getpid())"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let store = try! SQLiteStore(path: directory + "/fuzz.db")
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "hookline-fuzz-\(getpid())") }
    return Operations(store: store, actor: .api)
}()

/// The entry point: hands the command line to libFuzzer, which then calls `fuzz` for every input.
@main
enum Driver {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzz))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = UnsafeBufferPointer(start: data, count: size)
    for (batch, key) in [(false, nil), (false, "order-fuzz 42"), (true, nil)] as [(Bool, String?)] {
        let results: [Result<EmitRequest, HooklineError>]
        do {
            results = try IngestAPI.parseEvents(body: body, batch: batch, idempotencyKey: key, maximumBatch: 50)
        } catch {
            check(error)
            continue
        }
        guard batch || results.count == 1 else { fatalError("a single event parsed into \(results.count) results") }
        for result in results {
            switch result {
            case .failure(let error):
                check(error)
            case .success(let item):
                if let key { guard item.idempotencyKey == key, item.id == nil else { fatalError("Idempotency-Key \(key) not carried") } }
                do {
                    let id = item.id ?? item.idempotencyKey.map { IdempotencyKey.eventID(for: $0, tenant: item.tenant) }
                    let event = try operations.prepare(type: item.type, data: item.data, id: id, timestamp: item.timestamp)
                    guard let envelope = try? JSONValue.parse(event.payload), envelope["data"] == item.data,
                          envelope.canonicalBytes == event.payload
                    else { fatalError("the envelope of an accepted event does not carry its data unchanged") }
                } catch {
                    check(error)
                }
            }
        }
    }
    return 0
}

/// A refusal must say something.
private func check(_ error: HooklineError) {
    guard !error.description.isEmpty else { fatalError("empty error message: \(error)") }
}
