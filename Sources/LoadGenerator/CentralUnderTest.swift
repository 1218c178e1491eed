import AsyncHTTPClient
import Foundation
import NIOCore

/// A central process started for one load run, with a fresh SQLite file, and what /proc says
/// about it.
final class CentralUnderTest: @unchecked Sendable {
    // @unchecked: the process is driven from the load generator's single main task.
    let process: Process
    let port: Int
    let adminToken: String
    let directory: URL

    init(binary: String, provider: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = Int.random(in: 20_000...40_000)
        adminToken = UUID().uuidString
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--host", "127.0.0.1", "--port", String(port), "--log-level", "error",
            "--database-url", "sqlite:\(directory.appendingPathComponent("central.sqlite").path)",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["ADMIN_TOKEN": adminToken, "SPEECH_PROVIDER": provider]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func waitUntilServing(client: HTTPClient) async throws {
        for _ in 0..<200 {
            if let response = try? await client.execute(HTTPClientRequest(url: baseURL + "/healthz"), timeout: .seconds(1)),
               response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LoadError("central did not start")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// CPU seconds (user + system) used so far.
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size in bytes.
    var residentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}

struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The parts of central's /metrics the load generator reads.
struct MetricsSample {
    var acceptedFrames: Double = 0
    var droppedFrames: Double = 0
    /// Cumulative counts by upper bound (seconds).
    var latencyBuckets: [(Double, Double)] = []
    var liveStreams: Double = 0

    init(text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = parts[0]
            if name == #"central_stream_frames_total{outcome="accepted"}"# { acceptedFrames = value }
            if name.hasPrefix(#"central_stream_frames_total{outcome="dropped"#) { droppedFrames += value }
            if name == "central_live_streams" { liveStreams = value }
            if name.hasPrefix("central_relay_latency_seconds_bucket{le=\""), let bound = name.split(separator: "\"").dropFirst().first {
                latencyBuckets.append((bound == "+Inf" ? .infinity : Double(bound) ?? .infinity, value))
            }
        }
    }

    /// The bucket bound under which `quantile` of the frames between two samples fell.
    static func quantile(_ quantile: Double, from before: MetricsSample, to after: MetricsSample) -> Double {
        let deltas = zip(after.latencyBuckets, before.latencyBuckets.isEmpty ? after.latencyBuckets.map { ($0.0, 0) } : before.latencyBuckets)
            .map { ($0.0.0, $0.0.1 - $0.1.1) }
        guard let total = deltas.last?.1, total > 0 else { return .nan }
        return deltas.first { $0.1 >= total * quantile }?.0 ?? .infinity
    }
}
