import FakeProviders

/// The fake's knobs and memory: keys, failures queued for the next connections, a report per
/// connection.
actor FakeDeepgramState {
    /// A failure to inject into the next connection(s).
    struct Injection: Codable, Sendable {
        /// `error` (an `Error` message, then close 1011), `disconnect` (a close with no
        /// Metadata), `slow` (each result delayed).
        var failure: String
        /// Audio (ms) into the connection at which it strikes; 0 = at once.
        var afterMs: Int?
        var delayMs: Int?
        /// How many connections it applies to (default 1).
        var count: Int?

        enum CodingKeys: String, CodingKey {
            case failure
            case afterMs = "after_ms"
            case delayMs = "delay_ms"
            case count
        }
    }

    let keys: FakeKeyBook
    private var injections: [Injection] = []
    private var reports: [FakeListenReport] = []

    init(validKeys: Set<String>) {
        keys = FakeKeyBook(valid: validKeys)
    }

    func inject(_ injection: Injection) { injections.append(injection) }

    func takeInjection() -> Injection? {
        guard !injections.isEmpty else { return nil }
        var first = injections[0]
        let remaining = (first.count ?? 1) - 1
        if remaining > 0 {
            first.count = remaining
            injections[0] = first
        } else {
            injections.removeFirst()
        }
        return first
    }

    func record(_ report: FakeListenReport) {
        if let index = reports.firstIndex(where: { $0.requestID == report.requestID }) {
            reports[index] = report
        } else {
            reports.append(report)
        }
    }

    func allReports() -> [FakeListenReport] { reports }

    func reset() {
        injections = []
        reports = []
    }
}
