import ArgumentParser
import AsyncHTTPClient
import COpus
import Foundation
import NIOCore
import NIOPosix
import Protocol

/// `loadgen`: N simulated edges streaming pre-encoded Opus at real-time pace (50 frames/s each)
/// against a central it starts itself or one already running (`--url`); prints streams held,
/// frames/s offered, accepted and acked, relay latency, and CPU and RSS of the processes watched.
///
/// The streams are raw NIO channels on `--threads` event loops (default one, so one core): each
/// loop's `LoopPacer` writes pre-built masked frames to its channels every 20 ms.
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen", abstract: "Open N simulated edges against a central and measure it.")

    @Option(help: "Stream counts to run, one after the other (repeatable); a fresh central each unless --url.") var streams: [Int] = [100]
    @Option(help: "Seconds to measure after the ramp and the warm-up.") var duration = 20
    @Option(help: "Seconds between the last stream starting and the measured window.") var warmup = 3
    @Option(help: "Target an already running central, e.g. http://127.0.0.1:8080, instead of starting one.") var url: String?
    @Option(help: "The admin token of the central given by --url (default: env ADMIN_TOKEN).") var adminToken: String?
    @Option(name: .customLong("pid"), help: ArgumentHelp(
        "NAME=PID (or PID) of a process whose CPU and memory to report per frame relayed (repeatable).",
        discussion: "Without --url, the central loadgen starts is watched as 'central'."))
    var pids: [String] = []
    @Option(help: "The central binary to start (without --url).") var central = ".build/release/central"
    @Option(help: "Provider inside the central it starts: null (central alone) or demo (decodes every frame).") var provider = "null"
    @Option(help: "Streams admitted and opened at once during the ramp.") var rampBatch = 50
    @Option(help: "Event loop threads driving the streams.") var threads = 1

    func run() async throws {
        let watched = try pids.map(WatchedProcess.init(argument:))
        let templates = try AudioFrameTemplates(packets: Self.encodedPackets())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let pacers = group.makeIterator().map {
            LoopPacer(
                eventLoop: $0, templates: templates,
                start: ControlMessage.start(StartMessage(sourceLanguage: "zh", targetLanguage: "en")).encodedText(),
                stop: ControlMessage.stop(StopMessage()).encodedText())
        }
        for pacer in pacers { pacer.startTicking() }
        let client = HTTPClient(
            eventLoopGroup: group,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
        emit(LoadResult.header + "   (\(url ?? "provider=\(provider)"), \(duration) s)")
        if let url {
            guard let token = adminToken ?? ProcessInfo.processInfo.environment["ADMIN_TOKEN"] else {
                throw ValidationError("--url needs --admin-token (or env ADMIN_TOKEN)")
            }
            let target = try LoadTarget(url: url, adminToken: token, watched: watched)
            try await waitUntilServing(target.baseURL, client: client)
            for count in streams { await measure(count: count, target: target, client: client, pacers: pacers) }
        } else {
            for count in streams {
                let server = try CentralUnderTest(binary: central, provider: provider)
                do {
                    try await waitUntilServing(server.baseURL, client: client)
                    let target = try LoadTarget(
                        url: server.baseURL, adminToken: server.adminToken,
                        watched: [WatchedProcess(name: "central", pid: server.process.processIdentifier)] + watched)
                    await measure(count: count, target: target, client: client, pacers: pacers)
                } catch {
                    emit("\(count): failed: \(error)")
                }
                server.stop()
            }
        }
        for pacer in pacers { pacer.stopTicking() }
        try await client.shutdown()
        try await group.shutdownGracefully()
    }

    private func measure(count: Int, target: LoadTarget, client: HTTPClient, pacers: [LoopPacer]) async {
        let run = LoadRun(
            streams: count, rampBatch: rampBatch, warmup: warmup, duration: duration, target: target, client: client, pacers: pacers)
        do {
            let result = try await run.run()
            emit(result.tableRow)
            emit(result.resultLine)
        } catch {
            emit("\(count): failed: \(error)")
        }
    }

    private func waitUntilServing(_ baseURL: String, client: HTTPClient) async throws {
        for _ in 0..<200 {
            if let response = try? await client.execute(HTTPClientRequest(url: baseURL + "/healthz"), timeout: .seconds(1)),
               response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LoadError("central at \(baseURL) did not answer /healthz")
    }

    static func encodedPackets() -> [[UInt8]] {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(16_000, 1, OPUS_APPLICATION_VOIP, &error) else { return [[0x78, 0]] }
        defer { opus_encoder_destroy(encoder) }
        var output = [UInt8](repeating: 0, count: 1500)
        return (0..<50).map { index in
            let pcm: [Int16] = (0..<320).map { Int16(6_000 * sin(2 * .pi * 220 * Double(index * 320 + $0) / 16_000)) }
            let length = opus_encode(encoder, pcm, 320, &output, Int32(output.count))
            return Array(output.prefix(Int(max(0, length))))
        }
    }
}

func post(_ client: HTTPClient, _ url: String, bearer: String, body: String) async throws -> [String: Any] {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await client.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:]
}

func get(_ client: HTTPClient, _ url: String) async throws -> String {
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 1 << 22)
    return String(decoding: bytes.readableBytesView, as: UTF8.self)
}

/// Writes a line at once (not buffered), so partial results survive an interrupted run.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
