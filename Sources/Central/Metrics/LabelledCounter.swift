import CoreMetrics
import Synchronization

/// One counter per value of one label, made on first use, for events rarer than frames
/// (admissions, stream events, shed connections). The values come from code (results, codes,
/// reasons), but the family still stops at `limit` series: any further value counts as "other".
final class LabelledCounter: Sendable {
    static let limit = 64

    private let family: CentralMetricFamily
    private let label: String
    /// Labels every series of this family carries, after `label` (the provider, say).
    private let fixed: [(String, String)]
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: Counter]>([:])

    init(_ family: CentralMetricFamily, by label: String, fixed: [(String, String)] = [], factory: any MetricsFactory) {
        self.family = family
        self.label = label
        self.fixed = fixed
        self.factory = factory
    }

    func increment(_ value: String, by amount: Int64 = 1) {
        counters.withLock { counters in
            if let counter = counters[value] { return counter }
            let key = counters.count < Self.limit - 1 ? value : "other"
            if let counter = counters[key] { return counter }
            let counter = Counter(label: family.label, dimensions: [(label, key)] + fixed, factory: factory)
            counters[key] = counter
            return counter
        }.increment(by: amount)
    }
}
