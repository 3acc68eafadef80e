import Crypto
import Foundation

/// Keeps endpoint secrets encrypted at rest: AES-256-GCM, bound to their endpoint's id.
///
/// A copy of the database alone reveals no secret: the key comes from `HOOKLINE_SECRET_KEY` (64 hex
/// characters) or, when that is not set, from a key file beside the database (`<database>.key`,
/// created with mode 0600 together with a new database). Stored values read `enc1:` + base64 of
/// nonce, ciphertext and tag; the endpoint id is the associated data, so a sealed secret copied
/// onto another endpoint's row does not open.
public struct SecretBox: Sendable {
    /// The value every store seals in its settings to prove, at open, that a key is the one its
    /// secrets were sealed with.
    public static let checkValue = "hookline-secret-check"

    /// The environment variable that holds the key, as 64 hex characters.
    public static let environmentVariable = "HOOKLINE_SECRET_KEY"
    static let prefix = "enc1:"

    private let keyBytes: [UInt8]
    /// Where the key came from, for error messages.
    public let source: String

    /// A box with this 32-byte key.
    public init(keyBytes: [UInt8], source: String) {
        precondition(keyBytes.count == 32, "a secret key is 32 bytes")
        self.keyBytes = keyBytes
        self.source = source
    }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The key as 64 hex characters, for a store to open a copy of its own database (a backup) with.
    package var keyHex: String { Hex.encode(keyBytes) }

    /// Whether the key came from a key file beside the database (and not from the environment).
    package var isFromKeyFile: Bool { source != Self.environmentVariable }

    /// The stored form of `secret` for the endpoint `endpointID`.
    public func seal(_ secret: String, endpointID: String) throws(HooklineError) -> String {
        do {
            let box = try AES.GCM.seal(Array(secret.utf8), using: key, authenticating: Array(endpointID.utf8))
            guard let combined = box.combined else { throw HooklineError.storage("AES-GCM gave no sealed form") }
            return Self.prefix + combined.base64EncodedString()
        } catch let error as HooklineError {
            throw error
        } catch {
            throw .storage("An endpoint secret could not be encrypted (\(error)).")
        }
    }

    /// The secret in a stored value; a value without the `enc1:` prefix is returned as it is
    /// (written before encryption; the migration seals those).
    public func unseal(_ stored: String, endpointID: String) throws(HooklineError) -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let combined = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let plain = try? AES.GCM.open(box, using: key, authenticating: Array(endpointID.utf8)),
              let secret = String(bytes: plain, encoding: .utf8)
        else {
            throw .wrongSecretKey(source: source)
        }
        return secret
    }

    /// The key given as 64 hex characters.
    public static func fromHex(_ text: String, source: String) throws(HooklineError) -> SecretBox {
        guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw .invalidInput("\(environmentVariable) must be 64 hex characters (32 bytes), for example the output of `openssl rand -hex 32`.")
        }
        return SecretBox(keyBytes: bytes, source: source)
    }

    /// The key for the database at `databasePath`: `HOOKLINE_SECRET_KEY` when `environmentKey` is
    /// set, else the key file beside the database, created when `mayCreate` and missing.
    public static func forDatabase(at databasePath: String, environmentKey: String?, mayCreate: Bool) throws(HooklineError) -> SecretBox {
        if let environmentKey, !environmentKey.isEmpty {
            return try fromHex(environmentKey, source: environmentVariable)
        }
        let keyPath = databasePath + ".key"
        if let text = try? String(contentsOfFile: keyPath, encoding: .utf8) {
            guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
                throw .invalidInput("The key file '\(keyPath)' does not hold 64 hex characters; restore it from a backup or set \(environmentVariable).")
            }
            return SecretBox(keyBytes: bytes, source: "the key file '\(keyPath)'")
        }
        guard mayCreate else { throw .secretKeyMissing(keyPath: keyPath) }
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let fd = open(keyPath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .storage("Hookline cannot create the key file '\(keyPath)' (\(String(cString: strerror(errno)))); check the directory's permissions or set \(environmentVariable).")
        }
        let text = Array((Hex.encode(bytes) + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == text.count, synced == 0 else {
            unlink(keyPath)
            throw .storage("Hookline cannot write the key file '\(keyPath)'; check the free space.")
        }
        return SecretBox(keyBytes: bytes, source: "the key file '\(keyPath)'")
    }
}
