import Foundation

/// nginx on 127.0.0.1 answering every POST with 200, as the receiver most production endpoints
/// sit behind: started from a config in a scratch directory, stopped with the benchmark.
final class NginxReceiver: Sendable {
    let port: Int
    private let process: Process
    private let directory: String

    /// The nginx binary on this machine, if there is one.
    static var executable: String? {
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx", "/usr/local/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(directory: String, workers: Int = 2) async throws {
        guard let executable = Self.executable else {
            throw BenchmarkError("nginx is not installed; install it (apt-get install nginx-light) or use --receiver hummingbird")
        }
        self.directory = directory + "/nginx"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        port = DemoEnvironment.refusingPort()
        let user = geteuid() == 0 ? "user root;\n" : ""
        let temp = self.directory
        let config = """
            \(user)worker_processes \(workers);
            daemon off;
            pid \(temp)/nginx.pid;
            error_log \(temp)/error.log error;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(temp)/body;
                proxy_temp_path \(temp)/proxy;
                fastcgi_temp_path \(temp)/fastcgi;
                uwsgi_temp_path \(temp)/uwsgi;
                scgi_temp_path \(temp)/scgi;
                keepalive_requests 1000000;
                server {
                    listen 127.0.0.1:\(port) backlog=4096;
                    location / { return 200 'ok'; }
                }
            }
            """
        try config.write(toFile: temp + "/nginx.conf", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-p", temp, "-c", temp + "/nginx.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts a connection.
        for _ in 0..<100 {
            if Self.accepts(port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw BenchmarkError("nginx did not start listening on 127.0.0.1:\(port) within 5 s (see \(temp)/error.log)")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
