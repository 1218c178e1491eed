import Foundation
import Testing

/// Debian's real nginx as a round-robin HTTP and WebSocket load balancer on a free loopback port
/// in front of central processes. The configuration is scripts/nginx-proxy-conf.sh's (the
/// benchmarks run the same one): no stickiness, upgrades passed through, `X-Forwarded-For`
/// appended, and a request whose connection an instance refuses goes to the next instance.
/// Everything nginx writes stays in a temporary directory of its own, removed by `stop()`.
final class NginxLoadBalancer: @unchecked Sendable {
    // @unchecked: `process` and `upstreamPorts` are only touched from the test's own task.
    let port: Int
    private(set) var upstreamPorts: [Int]
    private let directory: URL
    private let process: Process
    private let alsoListenOn: String?

    var url: String { "http://127.0.0.1:\(port)" }

    /// What nginx logged (connection failures to upstreams, reloads), for failure messages.
    var errorLog: String {
        (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
    }

    /// `alsoListenOn`: an address to listen on besides loopback (a test namespace's veth peer).
    init(upstreamPorts: [Int], alsoListenOn: String? = nil) async throws {
        let nginx = try #require(
            ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "nginx is not installed (scripts/install-deps.sh installs it; make test runs it)")
        self.upstreamPorts = upstreamPorts
        port = CentralProcess.freePort()
        // Not mktemp's 0700: as root nginx's worker runs as `nobody` and must reach its temp paths.
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nginx-lb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.alsoListenOn = alsoListenOn
        try Self.writeConfiguration(directory: directory, port: port, upstreamPorts: upstreamPorts, alsoListenOn: alsoListenOn)
        process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-p", directory.path, "-e", directory.appendingPathComponent("error.log").path,
                             "-c", directory.appendingPathComponent("nginx.conf").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let listening = await eventually(within: .seconds(10)) { !process.isRunning || Self.accepts(port: port) }
        try #require(listening && process.isRunning, "nginx did not start on port \(port): \(errorLog)")
    }

    /// Sends traffic to `upstreamPorts` from now on: rewrites the configuration and reloads it
    /// (SIGHUP); returns once a worker with the new configuration runs and the old workers have
    /// exited, or after 5 s when they still carry connections (streams stay on the old worker
    /// until they end). The old workers close idle kept-alive connections at once, so a client
    /// that writes a request into one just then sees the connection closed.
    func reload(upstreamPorts: [Int]) async throws {
        try Self.writeConfiguration(directory: directory, port: port, upstreamPorts: upstreamPorts, alsoListenOn: alsoListenOn)
        let before = workers()
        kill(process.processIdentifier, SIGHUP)
        let reloaded = await eventually(within: .seconds(10)) { !self.workers().subtracting(before).isEmpty }
        try #require(reloaded, "nginx did not reload: \(errorLog)")
        await eventually(within: .seconds(5)) { self.workers().isDisjoint(with: before) }
        self.upstreamPorts = upstreamPorts
    }

    /// SIGTERM (nginx's fast shutdown), then removes its directory.
    func stop() {
        process.terminateAndWait()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The master's worker processes now.
    private func workers() -> Set<String> {
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return Set(children.split(separator: " ").map(String.init))
    }

    private static var configurationScript: URL {
        // Tests/CentralTests/Support/NginxLoadBalancer.swift -> the package root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/nginx-proxy-conf.sh")
    }

    private static func writeConfiguration(directory: URL, port: Int, upstreamPorts: [Int], alsoListenOn: String?) throws {
        try #require(!upstreamPorts.isEmpty, "a load balancer needs an upstream")
        _ = try CommandRunner.output(
            configurationScript.path, [directory.path, String(port)] + upstreamPorts.map(String.init),
            environment: alsoListenOn.map { ["ALSO_LISTEN": $0] } ?? [:])
    }

    /// Whether something accepts TCP connections on the loopback port.
    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
