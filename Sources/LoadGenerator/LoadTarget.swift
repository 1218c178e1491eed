import Foundation

/// The central a run measures: where it listens, its admin token, and the processes whose CPU
/// and memory are charged to the frames it relays (central itself, or a proxy in front of it).
struct LoadTarget: Sendable {
    let baseURL: String
    let host: String
    let port: Int
    let adminToken: String
    let watched: [WatchedProcess]

    init(url: String, adminToken: String, watched: [WatchedProcess]) throws {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host else {
            throw LoadError("--url must look like http://127.0.0.1:8080, got \(url)")
        }
        self.host = host
        self.port = parsed.port ?? 80
        self.baseURL = "http://\(host):\(port)"
        self.adminToken = adminToken
        self.watched = watched
    }
}

/// A process to report on: `--pid nginx=1234`, or a bare `--pid 1234` (called "server").
struct WatchedProcess: Sendable {
    let name: String
    let stat: ProcessStat

    init(name: String, pid: Int32) {
        self.name = name
        self.stat = ProcessStat(pid: pid)
    }

    init(argument: String) throws {
        let parts = argument.split(separator: "=", maxSplits: 1)
        guard let pid = Int32(parts.last ?? ""), pid > 0, parts.count == 1 || !parts[0].isEmpty else {
            throw LoadError("--pid takes NAME=PID or PID, got \(argument)")
        }
        self.init(name: parts.count == 2 ? String(parts[0]) : "server", pid: pid)
    }
}
