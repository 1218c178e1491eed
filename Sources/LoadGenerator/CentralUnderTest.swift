import Foundation

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

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// What /proc says about the process.
    var stat: ProcessStat { ProcessStat(pid: process.processIdentifier) }
}
