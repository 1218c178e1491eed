import Central

/// `metrics-bench`: what the per-frame metrics calls cost, in nanoseconds per call. A measuring
/// tool, not a test: build it in release mode and record the numbers in docs/benchmarks.md.
@main
struct MetricsBenchmark {
    static func main() {
        let calls = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 10_000_000
        let metrics = CentralMetrics(providers: ["null"], instance: "bench").stream(provider: "null")
        // Relay latencies spread over 0–16 ms, so the histogram's buckets all see use.
        time("recordAcceptedFrame", calls: calls) { index in
            metrics.recordAcceptedFrame(relayMicroseconds: Int64(truncatingIfNeeded: index & 0x3FFF))
        }
        time("recordFrame(\"duplicate\")", calls: calls) { _ in metrics.recordFrame("duplicate") }
    }

    /// One warm-up pass of a tenth, then the timed loop on this thread.
    static func time(_ name: String, calls: Int, _ call: (Int) -> Void) {
        for index in 0..<(calls / 10) { call(index) }
        let elapsed = ContinuousClock().measure {
            for index in 0..<calls { call(index) }
        }
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        print("\(name): \(calls) calls, \((nanoseconds / Double(calls) * 10).rounded() / 10) ns/call")
    }
}
