import Foundation
import Testing

/// Runs one of the package's built executables as a child process, as an operator would.
enum CommandRunner {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The directory holding the built products (`.build/debug`), next to the test bundle.
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static func run(_ product: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) async throws -> Result {
        let executable = productsDirectory.appendingPathComponent(product)
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build \(product) first (make test does)")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "USER": "tester"]
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Both pipes are drained while the child runs: one that prints more than a pipe holds
        // would otherwise block on its write and never exit.
        let printed = PipeDrain(out, err)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let (stdout, stderr) = await printed.collected()
        return Result(status: status, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// Reads two pipes to their ends on their own threads.
private final class PipeDrain: @unchecked Sendable {
    // @unchecked: each property is written by its one reader before `group` is notified, and
    // read only after.
    private var first = Data()
    private var second = Data()
    private let group = DispatchGroup()

    init(_ firstPipe: Pipe, _ secondPipe: Pipe) {
        group.enter()
        DispatchQueue.global().async {
            self.first = firstPipe.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            self.second = secondPipe.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
    }

    func collected() async -> (Data, Data) {
        await withCheckedContinuation { continuation in
            group.notify(queue: .global()) { continuation.resume(returning: (self.first, self.second)) }
        }
    }
}

extension CommandRunner {
    /// Runs a system tool and returns its standard output (and error), failing on a non-zero exit.
    /// Runs a program to its end (with `environment` added to this process's) and returns what it printed.
    static func output(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        try #require(process.terminationStatus == 0, "\(path) failed: \(text)")
        return text
    }
}
