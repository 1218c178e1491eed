import AsyncHTTPClient
import Foundation
import NIOCore

/// One measurement against a target: a license for N streams, N admissions and stream
/// WebSockets opened in batches, a warm-up, the measured window, then every stream stopped.
struct LoadRun {
    let streams: Int
    let rampBatch: Int
    let warmup: Int
    let duration: Int
    let target: LoadTarget
    let client: HTTPClient
    let pacers: [LoopPacer]

    func run() async throws -> LoadResult {
        let created = try await post(client, target.baseURL + "/v1/admin/licenses", bearer: target.adminToken, body: """
            {"plan":"trial-enterprise","customer_name":"loadgen","minutes":1000000,"concurrent":\(streams),"devices":\(streams)}
            """)
        guard let key = created["key"] as? String else { throw LoadError("license creation failed: \(created)") }
        let idleResident = target.watched.map(\.stat.residentBytes)
        let failedToOpen = try await openStreams(key: key)

        try await Task.sleep(for: .seconds(warmup))
        let before = try await snapshot()
        try await Task.sleep(for: .seconds(duration))
        let after = try await snapshot()
        let resident = target.watched.map(\.stat.residentBytes)
        try await stopStreams()

        let seconds = after.time.timeIntervalSince(before.time)
        let accepted = after.metrics.acceptedFrames - before.metrics.acceptedFrames
        let usages = target.watched.indices.map { index in
            let cpu = after.cpu[index] - before.cpu[index]
            return LoadResult.ProcessUsage(
                name: target.watched[index].name, cpuPercent: cpu / seconds * 100,
                microsecondsPerFrame: accepted > 0 ? cpu / accepted * 1_000_000 : .nan,
                residentMB: Double(resident[index]) / 1_048_576,
                kilobytesPerStream: Double(resident[index] - idleResident[index]) / 1024 / Double(max(1, streams)))
        }
        return LoadResult(
            streams: streams, window: after.stats.since(before.stats), failedToOpen: failedToOpen, seconds: seconds,
            acceptedFrames: accepted, droppedFrames: after.metrics.droppedFrames - before.metrics.droppedFrames,
            relayP50: MetricsSample.quantile(0.50, from: before.metrics, to: after.metrics) * 1000,
            relayP99: MetricsSample.quantile(0.99, from: before.metrics, to: after.metrics) * 1000,
            loadgenCPUPercent: (after.ownCPU - before.ownCPU) / seconds * 100, processes: usages)
    }

    /// Admits and connects `rampBatch` streams at a time (stream tokens live 30 s), each batch
    /// settled (started or refused) before the next. Returns why streams never got to stream, by reason.
    private func openStreams(key: String) async throws -> [String: Int] {
        // Pacers outlive a run: count from what they had seen before it.
        let base = try await totals()
        var failures: [String: Int] = [:]
        var upgraded = 0
        for batchStart in stride(from: 0, to: streams, by: rampBatch) {
            let batch = batchStart..<min(streams, batchStart + rampBatch)
            let outcomes = await withTaskGroup(of: String?.self) { group in
                for index in batch {
                    group.addTask { await open(index: index, key: key) }
                }
                return await group.reduce(into: [String?]()) { $0.append($1) }
            }
            for outcome in outcomes {
                if let reason = outcome { failures[reason, default: 0] += 1 } else { upgraded += 1 }
            }
            // Upgraded streams settle when `started` (or a refusal) arrives.
            for _ in 0..<500 {
                let stats = try await totals().since(base)
                if stats.started + stats.failedToStart >= upgraded { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let ramp = try await totals().since(base)
        if ramp.failedToStart > 0 {
            failures["closed_before_started", default: 0] += ramp.failedToStart
            for (code, count) in ramp.errors { failures["start_error_\(code)", default: 0] += count }
        }
        return failures
    }

    /// One admission and one stream WebSocket; nil when the stream was upgraded, else why not.
    private func open(index: Int, key: String) async -> String? {
        let admitted: [String: Any]
        do {
            admitted = try await post(client, target.baseURL + "/v1/sessions", bearer: key, body: #"{"device_id":"edge-\#(index)"}"#)
        } catch {
            return "admission_\(type(of: error))"
        }
        guard let token = admitted["stream_token"] as? String else {
            return "admission_" + (((admitted["error"] as? [String: Any])?["code"] as? String) ?? "refused")
        }
        do {
            let connector = StreamConnector(host: target.host, port: target.port, path: admitted["stream_path"] as? String ?? "/v1/stream")
            try await connector.open(token: token, on: pacers[index % pacers.count])
            return nil
        } catch {
            return "upgrade_\(error)".replacingOccurrences(of: " ", with: "_")
        }
    }

    /// `stop` on every stream, then up to 15 s for central to answer and close; the rest is closed.
    private func stopStreams() async throws {
        for pacer in pacers { try await pacer.eventLoop.submit { pacer.stopStreams() }.get() }
        for _ in 0..<750 {
            var open = 0
            for pacer in pacers { open += try await pacer.eventLoop.submit { pacer.openStreams }.get() }
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        for pacer in pacers { try await pacer.eventLoop.submit { pacer.closeStreams() }.get() }
    }

    private func totals() async throws -> StreamStats {
        var sum = StreamStats()
        for pacer in pacers { sum = sum + (try await pacer.eventLoop.submit { pacer.stats }.get()) }
        return sum
    }

    private struct Snapshot {
        let time: Date
        let metrics: MetricsSample
        let cpu: [Double]
        let ownCPU: Double
        let stats: StreamStats
    }

    private func snapshot() async throws -> Snapshot {
        let metrics = MetricsSample(text: try await get(client, target.baseURL + "/metrics"))
        return Snapshot(
            time: Date(), metrics: metrics, cpu: target.watched.map(\.stat.cpuSeconds),
            ownCPU: ProcessStat(pid: getpid()).cpuSeconds, stats: try await totals())
    }
}
