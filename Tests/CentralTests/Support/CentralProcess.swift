import AsyncHTTPClient
import Foundation
import Testing

/// The real `central` executable running as a child process, for tests that kill it.
final class CentralProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's own task.
    let process: Process
    let port: Int

    convenience init(databasePath: String, port: Int, adminToken: String, environment: [String: String] = [:]) throws {
        try self.init(databaseURL: "sqlite:\(databasePath)", port: port, adminToken: adminToken, environment: environment)
    }

    init(databaseURL: String, port: Int, adminToken: String, environment: [String: String] = [:]) throws {
        self.port = port
        process = Process()
        process.executableURL = CommandRunner.productsDirectory.appendingPathComponent("central")
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--database-url", databaseURL, "--log-level", "warning"]
        process.environment = ["PATH": "/usr/bin:/bin", "ADMIN_TOKEN": adminToken, "HOME": NSTemporaryDirectory()]
            .merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until `/healthz` answers.
    func waitUntilServing(timeout: Duration = .seconds(15)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("central did not start on port \(port)")
    }

    /// SIGKILL: no graceful shutdown, no final checkpoint.
    func kill() {
        process.killAndWait()
    }

    /// SIGTERM, then waits for the exit; returns the exit status (a graceful shutdown is 0).
    @discardableResult
    func stop() -> Int32 {
        process.terminateAndWait()
    }

    /// A TCP port nobody listens on right now.
    static func freePort() -> Int {
        let (fd, port) = boundSocket()
        close(fd)
        return port
    }

    /// A socket bound to a free loopback port (the caller closes it), and that port.
    static func boundSocket() -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
