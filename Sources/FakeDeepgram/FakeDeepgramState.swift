import FakeProviders

/// The fake's knobs and memory: keys, failures queued for the next connections, a report per
/// connection.
actor FakeDeepgramState {
    /// A failure to inject into the next connection(s).
    struct Injection: FakeInjection {
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
    private var injections = FakeInjectionQueue<Injection>()
    private var reports: [FakeListenReport] = []

    init(validKeys: Set<String>) {
        keys = FakeKeyBook(valid: validKeys)
    }

    func inject(_ injection: Injection) { injections.push(injection) }

    func takeInjection() -> Injection? { injections.take() }

    func record(_ report: FakeListenReport) {
        if let index = reports.firstIndex(where: { $0.requestID == report.requestID }) {
            reports[index] = report
        } else {
            reports.append(report)
        }
    }

    func allReports() -> [FakeListenReport] { reports }

    func reset() {
        injections.removeAll()
        reports = []
    }
}
