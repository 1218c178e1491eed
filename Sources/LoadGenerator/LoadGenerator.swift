import ArgumentParser
import AsyncHTTPClient
import COpus
import Foundation
import Logging
import NIOCore

/// `loadgen`: N simulated edges streaming pre-encoded Opus at real-time pace (50 frames/s)
/// against a central it starts itself; prints streams held, frames/s, relay latency, CPU, RSS.
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen", abstract: "Open N simulated edges against a fresh central and measure it.")

    @Option(help: "Stream counts to run, one fresh central each (repeatable).") var streams: [Int] = [100]
    @Option(help: "Seconds to measure after the ramp and a 3 s warm-up.") var duration = 20
    @Option(help: "The central binary to start.") var central = ".build/release/central"
    @Option(help: "Provider inside central: null (central alone) or demo (decodes every frame).") var provider = "null"
    @Option(help: "Streams opened at once during the ramp.") var rampBatch = 50

    func run() async throws {
        var logger = Logger(label: "loadgen")
        logger.logLevel = .critical
        let packets = Self.encodedPackets()
        emit("streams  held  frames/s  expected/s  relay p50  relay p99  dropped  cpu%   rss MB  KB/stream   (provider=\(provider), \(duration) s)")
        for count in streams {
            let client = HTTPClient(configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
            let server = try CentralUnderTest(binary: central, provider: provider)
            do {
                try await server.waitUntilServing(client: client)
                try await measure(count: count, server: server, client: client, packets: packets, logger: logger)
            } catch {
                emit("\(count): failed: \(error)")
            }
            server.stop()
            try await client.shutdown()
        }
    }

    func measure(count: Int, server: CentralUnderTest, client: HTTPClient, packets: [[UInt8]], logger: Logger) async throws {
        let created = try await post(client, server.baseURL + "/v1/admin/licenses", bearer: server.adminToken, body: """
            {"plan":"trial-enterprise","customer_name":"loadgen","minutes":1000000,"concurrent":\(count),"devices":\(count)}
            """)
        guard let key = created["key"] as? String else { throw LoadError("license creation failed: \(created)") }
        let idleRSS = server.residentBytes

        var edges: [SimulatedEdge] = []
        for batchStart in stride(from: 0, to: count, by: rampBatch) {
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for index in batchStart..<min(count, batchStart + rampBatch) {
                    group.addTask {
                        let admitted = try await post(client, server.baseURL + "/v1/sessions", bearer: key, body: #"{"device_id":"edge-\#(index)"}"#)
                        guard let token = admitted["stream_token"] as? String else { throw LoadError("admission failed: \(admitted)") }
                        return token
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            edges += tokens.map { SimulatedEdge(port: server.port, token: $0, logger: logger) }
        }

        // One pacer for all edges: every 20 ms, one frame each.
        let pacer = Task {
            var deadline = ContinuousClock.now
            var index = 0
            while !Task.isCancelled {
                let packet = packets[index % packets.count]
                for edge in edges { edge.sendNext(packet: packet) }
                index += 1
                deadline += .milliseconds(20)
                try? await Task.sleep(until: deadline, clock: .continuous)
            }
        }
        try await Task.sleep(for: .seconds(3))
        let before = MetricsSample(text: try await get(client, server.baseURL + "/metrics"))
        let cpuBefore = server.cpuSeconds
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(duration))
        let after = MetricsSample(text: try await get(client, server.baseURL + "/metrics"))
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = (server.cpuSeconds - cpuBefore) / seconds * 100
        let rss = server.residentBytes
        let held = edges.filter { $0.state == .streaming }.count
        pacer.cancel()
        for edge in edges { edge.stop() }

        let framesPerSecond = (after.acceptedFrames - before.acceptedFrames) / seconds
        let p50 = MetricsSample.quantile(0.50, from: before, to: after) * 1000
        let p99 = MetricsSample.quantile(0.99, from: before, to: after) * 1000
        emit(String(
            format: "%7d  %4d  %8.0f  %10d  ≤%6.1f ms  ≤%6.1f ms  %7.0f  %5.0f  %6.1f  %9.1f",
            count, held, framesPerSecond, count * 50, p50, p99, after.droppedFrames - before.droppedFrames, cpu,
            Double(rss) / 1_048_576, Double(rss - idleRSS) / 1024 / Double(max(1, count))))
        for edge in edges { await edge.connection.value }
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
