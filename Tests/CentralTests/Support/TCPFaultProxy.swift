import Foundation

/// scripts/tcp-fault-proxy.py as a child process: a TCP link the test can partition and heal
/// (a database, a load balancer) without touching what is behind it.
final class TCPFaultProxy: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's own task.
    let process: Process
    let port: Int

    init(target: String, delayMs: Int = 0) throws {
        port = CentralProcess.freePort()
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            repository.appendingPathComponent("scripts/tcp-fault-proxy.py").path,
            "--listen", String(port), "--target", target, "--delay-ms", String(delayMs),
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it says so (its first line).
        _ = output.fileHandleForReading.availableData
    }

    func partition() { kill(process.processIdentifier, SIGUSR1) }
    func heal() { kill(process.processIdentifier, SIGUSR2) }

    func stop() {
        process.terminateAndWait()
    }

    deinit { stop() }
}
