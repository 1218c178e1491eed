/// Counts of durations by fixed upper bounds, cheap enough to update per message on an event loop.
struct LagHistogram: Sendable {
    /// Upper bounds in milliseconds; the last bucket is everything above.
    static let boundsMilliseconds: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000]
    private(set) var counts = [Int](repeating: 0, count: boundsMilliseconds.count + 1)

    mutating func record(microseconds: Int64) {
        let milliseconds = Double(microseconds) / 1_000
        let bucket = Self.boundsMilliseconds.firstIndex { milliseconds <= $0 } ?? Self.boundsMilliseconds.count
        counts[bucket] += 1
    }

    /// A duration beyond what was kept to measure it: counted in the top bucket.
    mutating func recordOverflow() { counts[counts.count - 1] += 1 }

    /// The bucket bound under which `quantile` of the samples fell (infinity: above the last bound; nan: no samples).
    func quantile(_ quantile: Double) -> Double {
        let total = counts.reduce(0, +)
        guard total > 0 else { return .nan }
        var running = 0
        for (index, count) in counts.enumerated() {
            running += count
            if Double(running) >= Double(total) * quantile {
                return index < Self.boundsMilliseconds.count ? Self.boundsMilliseconds[index] : .infinity
            }
        }
        return .infinity
    }

    static func + (lhs: LagHistogram, rhs: LagHistogram) -> LagHistogram {
        var sum = lhs
        for index in sum.counts.indices { sum.counts[index] += rhs.counts[index] }
        return sum
    }

    static func - (lhs: LagHistogram, rhs: LagHistogram) -> LagHistogram {
        var difference = lhs
        for index in difference.counts.indices { difference.counts[index] -= rhs.counts[index] }
        return difference
    }
}
