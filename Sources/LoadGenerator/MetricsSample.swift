/// The parts of central's /metrics the load generator reads.
struct MetricsSample {
    var acceptedFrames: Double = 0
    var droppedFrames: Double = 0
    /// Cumulative counts by upper bound (seconds).
    var latencyBuckets: [(Double, Double)] = []
    var liveStreams: Double = 0

    /// Series carry `provider` and `instance_id` labels after the ones matched here: they are summed.
    init(text: String) {
        var buckets: [Double: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = parts[0]
            if name.hasPrefix(#"central_stream_frames_total{outcome="accepted""#) { acceptedFrames += value }
            if name.hasPrefix(#"central_stream_frames_total{outcome="dropped"#) { droppedFrames += value }
            if name.hasPrefix("central_live_streams{") || name == "central_live_streams" { liveStreams += value }
            if name.hasPrefix("central_relay_latency_seconds_bucket{"), let le = name.range(of: #"le=""#) {
                let bound = name[le.upperBound...].prefix { $0 != "\"" }
                buckets[bound == "+Inf" ? .infinity : Double(bound) ?? .infinity, default: 0] += value
            }
        }
        latencyBuckets = buckets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The bucket bound under which `quantile` of the frames between two samples fell.
    static func quantile(_ quantile: Double, from before: MetricsSample, to after: MetricsSample) -> Double {
        let deltas = zip(after.latencyBuckets, before.latencyBuckets.isEmpty ? after.latencyBuckets.map { ($0.0, 0) } : before.latencyBuckets)
            .map { ($0.0.0, $0.0.1 - $0.1.1) }
        guard let total = deltas.last?.1, total > 0 else { return .nan }
        return deltas.first { $0.1 >= total * quantile }?.0 ?? .infinity
    }
}
