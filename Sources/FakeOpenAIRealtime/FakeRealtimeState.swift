import FakeProviders

/// The fake's knobs and memory: keys, failures queued for the next sessions, a report per session.
actor FakeRealtimeState {
    /// A failure to inject into the next session(s).
    struct Injection: FakeInjection {
        /// `server-error` (an `error` event of type server_error, then close), `session-expired`
        /// (OpenAI's 60-minute limit, early), `disconnect` (a close with nothing said).
        var failure: String
        /// Audio (ms) into the session at which it strikes.
        var afterMs: Int?
        var count: Int?

        enum CodingKeys: String, CodingKey {
            case failure
            case afterMs = "after_ms"
            case count
        }
    }

    let keys: FakeKeyBook
    private var injections = FakeInjectionQueue<Injection>()
    private var reports: [FakeRealtimeReport] = []

    init(validKeys: Set<String>) {
        keys = FakeKeyBook(valid: validKeys)
    }

    func inject(_ injection: Injection) { injections.push(injection) }

    func takeInjection() -> Injection? { injections.take() }

    func record(_ report: FakeRealtimeReport) {
        if let index = reports.firstIndex(where: { $0.sessionID == report.sessionID }) {
            reports[index] = report
        } else {
            reports.append(report)
        }
    }

    func allReports() -> [FakeRealtimeReport] { reports }

    func reset() {
        injections.removeAll()
        reports = []
    }
}

/// What the fake saw in one session, for `GET /control/sessions` and the tests.
struct FakeRealtimeReport: Codable, Sendable {
    var sessionID: String
    var keyHint: String
    var model: String?
    var language: String?
    var turnDetection: String?
    var audioMs: Int
    var appends: Int
    var commits: Int
    var items: Int
    var completed: Int
    var errors: [String]
    /// `open`, `closed`, `failed` or `disconnected`.
    var state: String

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case keyHint = "key_hint"
        case model, language
        case turnDetection = "turn_detection"
        case audioMs = "audio_ms"
        case appends, commits, items, completed, errors, state
    }
}
