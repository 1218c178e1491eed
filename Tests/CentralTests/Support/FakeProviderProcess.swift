import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// A fake provider's real executable (`fake-dashscope`, `fake-deepgram`) as a child process,
/// with its control API.
final class FakeProviderProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's own task.
    let process: Process
    let url: String
    let port: Int

    init(_ executable: String = "fake-dashscope", keys: [String], extraArguments: [String] = []) throws {
        process = Process()
        process.executableURL = CommandRunner.productsDirectory.appendingPathComponent(executable)
        process.arguments = ["--port", "0"] + keys.flatMap { ["--api-key", $0] } + extraArguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first stdout line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let range = text.range(of: "ws://") ?? text.range(of: "http://") else { throw FakeError.noURL(text) }
        url = String(text[range.lowerBound...])
        port = Int(url.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
    }

    enum FakeError: Error { case noURL(String) }

    func stop() {
        process.terminateAndWait()
    }

    func control(_ path: String, _ body: String = "{}") async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/control/\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        #expect(response.status == .noContent, "control \(path)")
    }

    /// What the fake saw in each task (fake-dashscope).
    func tasks() async throws -> [[String: Any]] {
        try await reports("tasks")
    }

    /// What the fake saw, from `GET /control/<list>` (`{"<list>": [...]}`).
    func reports(_ list: String) async throws -> [[String: Any]] {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/control/\(list)"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 22)
        let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return object?[list] as? [[String: Any]] ?? []
    }
}

/// Real speech: espeak-ng → sox (16 kHz mono S16) → libopus (VOIP, 20 ms) packets.
enum SpeechTestAudio {
    static func pcm(_ text: String) throws -> [Int16] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("speech-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let wav = directory.appendingPathComponent("s.wav").path
        let raw = directory.appendingPathComponent("s.raw").path
        try run("espeak-ng", ["-w", wav, text])
        try run("sox", [wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", raw])
        let data = try Data(contentsOf: URL(fileURLWithPath: raw))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map { Int16(littleEndian: $0) }
    }

    /// Runs a tool from PATH (espeak-ng, sox), failing the test when it fails.
    static func run(_ tool: String, _ arguments: [String]) throws {
        _ = try CommandRunner.output("/usr/bin/env", [tool] + arguments)
    }
}
