import Foundation
import NIOSSL

/// A certificate authority made for one test and a server certificate it signed for some DNS
/// names, made with the openssl command; a client that trusts ``authority`` accepts the server
/// for those names only.
public struct TestCertificates: Sendable {
    public let authority: NIOSSLCertificate
    public let certificate: NIOSSLCertificate
    public let key: NIOSSLPrivateKey

    public init(names: [String]) throws {
        let directory = NSTemporaryDirectory() + "hookline-ca-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let alternativeNames = names.map { "DNS:\($0)" }.joined(separator: ",")
        let script = """
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -subj /CN=Hookline-Test-CA -days 1 -out ca.pem &&
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -subj /CN=\(names.first ?? "localhost") -out server.csr &&
            printf 'subjectAltName=\(alternativeNames)\\nbasicConstraints=CA:FALSE\\n' > extensions.cnf &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile extensions.cnf -out server.pem
            """
        try runShell(script, in: directory)
        authority = try NIOSSLCertificate(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/ca.pem"))), format: .pem)
        certificate = try NIOSSLCertificate(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/server.pem"))), format: .pem)
        key = try NIOSSLPrivateKey(file: directory + "/server.key", format: .pem)
    }

    /// Client settings that trust this authority (and nothing else).
    public var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([authority])
        return configuration
    }
}

/// Runs a shell script in `directory` and waits for it (the openssl commands that make test
/// certificates); its output is discarded.
public func runShell(_ script: String, in directory: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
}
