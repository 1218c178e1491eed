import Synchronization

/// A fixed-bucket histogram (Prometheus style) of relay latencies, cheap enough for every frame.
final class LatencyHistogram: Sendable {
    /// Upper bounds in microseconds.
    static let bounds: [Int64] = [
        100, 250, 500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 50_000, 100_000, 250_000,
        1_000_000,
    ]

    private struct State {
        var counts = [Int](repeating: 0, count: LatencyHistogram.bounds.count + 1)
        var sumMicroseconds: Int64 = 0
    }

    private let state = Mutex(State())

    /// Values come from the edge's capture clock, so anything is possible: they are clamped to
    /// an hour and the sum saturates, so no frame can overflow it (a trap would end central).
    static let maximumMicroseconds: Int64 = 3_600_000_000

    func record(microseconds: Int64) {
        let value = min(max(0, microseconds), Self.maximumMicroseconds)
        let index = Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count
        state.withLock {
            $0.counts[index] += 1
            let (sum, overflow) = $0.sumMicroseconds.addingReportingOverflow(value)
            $0.sumMicroseconds = overflow ? .max : sum
        }
    }

    func render(name: String, help: String) -> [String] {
        let snapshot = state.withLock { $0 }
        var lines = ["# HELP \(name) \(help)", "# TYPE \(name) histogram"]
        var cumulative = 0
        for (index, bound) in Self.bounds.enumerated() {
            cumulative += snapshot.counts[index]
            lines.append("\(name)_bucket{le=\"\(Double(bound) / 1_000_000)\"} \(cumulative)")
        }
        cumulative += snapshot.counts[Self.bounds.count]
        lines.append("\(name)_bucket{le=\"+Inf\"} \(cumulative)")
        lines.append("\(name)_sum \(Double(snapshot.sumMicroseconds) / 1_000_000)")
        lines.append("\(name)_count \(cumulative)")
        return lines
    }
}
