import FakeProviders

/// The fake upstream's knobs and memory.
actor FakeLLMState {
    struct Injection: FakeInjection {
        /// `500`, `429`, `401` (answered with that status), `slow` (answers after `delay_ms`).
        var failure: String
        var delayMs: Int?
        var count: Int?

        enum CodingKeys: String, CodingKey {
            case failure
            case delayMs = "delay_ms"
            case count
        }
    }

    struct RequestReport: Codable, Sendable {
        var keyHint: String
        var model: String?
        var messages: Int
        var stream: Bool
        var status: Int
        var promptTokens: Int
        var completionTokens: Int

        enum CodingKeys: String, CodingKey {
            case keyHint = "key_hint"
            case model, messages, stream, status
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    let keys: FakeKeyBook
    private var injections = FakeInjectionQueue<Injection>()
    private var requests: [RequestReport] = []

    init(validKeys: Set<String>) {
        keys = FakeKeyBook(valid: validKeys)
    }

    func inject(_ injection: Injection) { injections.push(injection) }

    func takeInjection() -> Injection? { injections.take() }

    func record(_ report: RequestReport) { requests.append(report) }

    func allRequests() -> [RequestReport] { requests }

    func reset() {
        injections.removeAll()
        requests = []
    }
}
