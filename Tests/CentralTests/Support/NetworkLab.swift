import Foundation

/// A network namespace of the test's own, joined to the host by a veth pair, with an nftables
/// table inside it that the test uses to degrade the namespace's traffic (random loss with
/// `numgen random`, a partition with a plain drop rule). Needs root, `ip` and `nft` (CI runs as
/// root; scripts/install-deps.sh installs nftables). Everything is removed by `remove()`.
final class NetworkLab: @unchecked Sendable {
    // @unchecked: immutable after init; the commands it runs are the test's own.
    let namespace: String
    let hostAddress: String
    let labAddress: String
    private let hostInterface: String

    /// Root, `ip` and `nft`, and a kernel that lets this process make a namespace (tried once).
    static let available: Bool = {
        guard getuid() == 0, ["/usr/sbin/ip", "/usr/sbin/nft"].allSatisfy(FileManager.default.isExecutableFile(atPath:))
        else { return false }
        let probe = "se-probe-\(getpid())"
        guard (try? run("/usr/sbin/ip", ["netns", "add", probe])) != nil else { return false }
        _ = try? run("/usr/sbin/ip", ["netns", "del", probe])
        return true
    }()

    init() throws {
        let tag = String(UInt32.random(in: 0..<0xFFFFFF), radix: 16)
        let subnet = Int.random(in: 1...250)
        namespace = "se-lab-\(tag)"
        hostInterface = "seh\(tag)"
        let labInterface = "sel\(tag)"
        hostAddress = "10.213.\(subnet).1"
        labAddress = "10.213.\(subnet).2"
        try Self.run("/usr/sbin/ip", ["netns", "add", namespace])
        do {
            try Self.run("/usr/sbin/ip", ["link", "add", hostInterface, "type", "veth", "peer", "name", labInterface])
            try Self.run("/usr/sbin/ip", ["link", "set", labInterface, "netns", namespace])
            try Self.run("/usr/sbin/ip", ["addr", "add", "\(hostAddress)/30", "dev", hostInterface])
            try Self.run("/usr/sbin/ip", ["link", "set", hostInterface, "up"])
            try inside("/usr/sbin/ip", ["addr", "add", "\(labAddress)/30", "dev", labInterface])
            try inside("/usr/sbin/ip", ["link", "set", labInterface, "up"])
            try inside("/usr/sbin/ip", ["link", "set", "lo", "up"])
            // Loss and partitions apply to what crosses the veth, both ways; loopback inside the
            // namespace (the edge's own page and API) is never touched.
            try inside("/usr/sbin/nft", ["add", "table", "inet", "lab"])
            try inside("/usr/sbin/nft", ["add", "chain", "inet", "lab", "out", "{ type filter hook output priority 0; }"])
            try inside("/usr/sbin/nft", ["add", "chain", "inet", "lab", "in", "{ type filter hook input priority 0; }"])
        } catch {
            remove()
            throw error
        }
    }

    /// Drops `percent` % of packets at random, each way.
    func loss(percent: Int) throws {
        try clear()
        try inside("/usr/sbin/nft", ["add", "rule", "inet", "lab", "out", "oifname", "!=", "lo", "numgen", "random", "mod", "100", "<", String(percent), "drop"])
        try inside("/usr/sbin/nft", ["add", "rule", "inet", "lab", "in", "iifname", "!=", "lo", "numgen", "random", "mod", "100", "<", String(percent), "drop"])
    }

    /// Drops everything crossing the veth: the namespace is cut off (no RST, no ICMP).
    func partition() throws {
        try clear()
        try inside("/usr/sbin/nft", ["add", "rule", "inet", "lab", "out", "oifname", "!=", "lo", "drop"])
        try inside("/usr/sbin/nft", ["add", "rule", "inet", "lab", "in", "iifname", "!=", "lo", "drop"])
    }

    func clear() throws {
        try inside("/usr/sbin/nft", ["flush", "chain", "inet", "lab", "out"])
        try inside("/usr/sbin/nft", ["flush", "chain", "inet", "lab", "in"])
    }

    /// A process inside the namespace (not started yet).
    func process(_ executable: String, _ arguments: [String], environment: [String: String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace, executable] + arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return process
    }

    /// Runs a command inside the namespace and returns its standard output.
    @discardableResult
    func inside(_ executable: String, _ arguments: [String]) throws -> String {
        try Self.run("/usr/sbin/ip", ["netns", "exec", namespace, executable] + arguments)
    }

    func remove() {
        _ = try? Self.run("/usr/sbin/ip", ["link", "del", hostInterface])
        _ = try? Self.run("/usr/sbin/ip", ["netns", "del", namespace])
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "\(command) exited \(status): \(stderr)" }
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(
                command: ([executable] + arguments).joined(separator: " "), status: process.terminationStatus,
                stderr: String(decoding: err, as: UTF8.self))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
