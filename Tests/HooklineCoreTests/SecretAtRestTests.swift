import Foundation
import GRDB
@testable import HooklineCore
@testable import HooklineSQLite
import Testing

/// Endpoint secrets are sealed in the database with a key kept elsewhere.
@Suite struct SecretAtRestTests {
    static let secret = "plain-secret-never-on-disk-0123456789"

    /// Every byte of the database, its WAL and its shared memory.
    static func bytesOnDisk(_ path: String) -> Data {
        ["", "-wal", "-shm"].reduce(into: Data()) { all, suffix in
            all += FileManager.default.contents(atPath: path + suffix) ?? Data()
        }
    }

    @Test func aSecretIsSealedOnDiskAndTheKeyFileIsPrivate() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://a.example.com/hook", secret: Self.secret)
        #expect(try await fixture.store.endpoint(id: endpoint.id)?.secret == Self.secret)
        #expect(Self.bytesOnDisk(fixture.path).range(of: Data(Self.secret.utf8)) == nil, "the plain secret is nowhere in the files")
        let stored = try await fixture.store.pool.read { db in try String.fetchOne(db, sql: "SELECT secret FROM endpoint") }
        #expect(stored?.hasPrefix("enc1:") == true)
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.path + ".key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func aWrongOrMissingKeyIsRefusedInOneSentence() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("hookline.db")
        let key = String(repeating: "ab", count: 32)
        do {
            let store = try SQLiteStore(path: path, secretKey: key)
            _ = try await Operations(store: store, actor: .cli).addEndpoint(url: "https://a.example.com/hook", secret: Self.secret)
            try store.close()
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".key"), "with HOOKLINE_SECRET_KEY set no key file is made")
        #expect(throws: HooklineError.wrongSecretKey(source: "HOOKLINE_SECRET_KEY")) {
            try SQLiteStore(path: path, secretKey: String(repeating: "cd", count: 32))
        }
        #expect(throws: HooklineError.secretKeyMissing(keyPath: path + ".key")) {
            try SQLiteStore(path: path, secretKey: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".key"), "a sealed database never gets a new key file")
        #expect(throws: HooklineError.self) { try SQLiteStore(path: path, secretKey: "not-hex") }
        let store = try SQLiteStore(path: path, secretKey: key.uppercased())
        defer { try? store.close() }
        #expect(try await store.endpoints().first?.secret == Self.secret)
    }

    @Test func aSealedSecretCopiedToAnotherEndpointDoesNotOpen() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let a = try await fixture.operations.addEndpoint(url: "https://a.example.com/hook", secret: Self.secret)
        let b = try await fixture.operations.addEndpoint(url: "https://b.example.com/hook")
        try await fixture.store.pool.write { db in
            try db.execute(sql: "UPDATE endpoint SET secret = (SELECT secret FROM endpoint WHERE id = ?) WHERE id = ?", arguments: [a.id, b.id])
        }
        await #expect(throws: HooklineError.self) { try await fixture.store.endpoint(id: b.id) }
    }

    @Test func rotationKeepsTheOldSecretSigningOnlyDuringTheGrace() async throws {
        let fixture = try StoreFixture()
        defer { fixture.tearDown() }
        let endpoint = try await fixture.operations.addEndpoint(url: "https://a.example.com/hook", secret: Self.secret)
        let rotated = try await fixture.operations.rotateSecret(id: endpoint.id, grace: 3600)
        #expect(rotated.secret != Self.secret && rotated.secret.count == 64)
        let stored = try #require(try await fixture.store.endpoint(id: endpoint.id))
        #expect(stored.previousSecret == Self.secret)
        #expect(Self.bytesOnDisk(fixture.path).range(of: Data(Self.secret.utf8)) == nil, "the old secret is sealed too")

        let now = fixture.clock.now()
        let body = Array(#"{"event":"case.created"}"#.utf8)
        let during = Dictionary(uniqueKeysWithValues: stored.signer(at: now).headers(
            body: body, eventID: "evt_1", eventType: "case.created", attempt: 1, timestamp: 1).map { ($0.name, $0.value) })
        let standard = try #require(during["webhook-signature"])
        #expect(standard.split(separator: " ").count == 2)
        for secret in [rotated.secret, Self.secret] {
            #expect(SignatureVerifier(secret: secret).isValidStandard(signatureHeader: standard, eventID: "evt_1", timestamp: 1, body: body))
        }
        #expect(SignatureVerifier(secret: rotated.secret).isValid(signatureHex: try #require(during["X-Webhook-Signature"]), body: body))
        #expect(!SignatureVerifier(secret: Self.secret).isValid(signatureHex: try #require(during["X-Webhook-Signature"]), body: body))

        let after = stored.signer(at: now.addingTimeInterval(3601)).standardSignature(eventID: "evt_1", timestamp: 1, body: body)
        #expect(after.split(separator: " ").count == 1)
        #expect(!SignatureVerifier(secret: Self.secret).isValidStandard(signatureHeader: after, eventID: "evt_1", timestamp: 1, body: body))

        let immediate = try await fixture.operations.rotateSecret(id: endpoint.id, secret: "operator-chosen-secret-0123456789", grace: 0)
        #expect(immediate.previousSecret == nil)
        for (secret, grace) in [("short", 60.0), ("operator-chosen-secret-0123456789", 60), (nil, -1), (nil, 31 * 86_400)] {
            await #expect(throws: HooklineError.self, "secret \(secret ?? "generated"), grace \(grace)") {
                _ = try await fixture.operations.rotateSecret(id: endpoint.id, secret: secret, grace: grace)
            }
        }
        #expect(try await fixture.store.endpoint(id: endpoint.id)?.secret == "operator-chosen-secret-0123456789", "refused rotations change nothing")
    }
}
