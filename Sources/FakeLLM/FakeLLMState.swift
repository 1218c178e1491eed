import FakeProviders

/// The fake upstream's knobs and memory.
actor FakeLLMState {
    /// A failure or behaviour queued (`POST /control/inject`) for the next request(s), `count`
    /// of them (default 1). `failure` is one of:
    /// - `500`, `429`, `401`, … : answered with that status and an OpenAI error body
    ///   ("Injected failure.") before anything else is looked at.
    /// - `slow`: the answer (streamed or not) starts after `delay_ms` (default 2 000).
    /// - `stream_slow`: a streamed answer waits `delay_ms` (default 300) between its chunks
    ///   instead of 5 ms; a non-streaming request taking it answers as usual.
    /// - `disconnect`: a streamed answer sends `after_chunks` server-sent-event chunks (default 2)
    ///   and then drops the connection without ending the chunked body (no `[DONE]`, no final
    ///   zero-length chunk); a non-streaming request gets its connection closed with no response
    ///   at all (not even a status line).
    struct Injection: FakeInjection {
        var failure: String
        /// `slow`, `stream_slow`: milliseconds.
        var delayMs: Int?
        /// `disconnect`: how many chunks of a streamed answer go out before the connection drops.
        var afterChunks: Int?
        var count: Int?

        enum CodingKeys: String, CodingKey {
            case failure
            case delayMs = "delay_ms"
            case afterChunks = "after_chunks"
            case count
        }
    }

    /// What one `POST /v1/chat/completions` received and how it ended. Recorded when the request
    /// is answered (or refused) and updated when a streamed answer ends.
    struct RequestReport: Codable, Sendable {
        /// The request's number since the fake started (not reset by `/control/reset`).
        var index = 0
        /// The key's last 4 characters.
        var keyHint: String
        var model: String?
        var messages: Int
        var stream: Bool
        /// The status answered; 0 when the connection was dropped without a response.
        var status: Int
        var promptTokens: Int
        /// The completion as answered (after `max_tokens` truncation).
        var completionTokens: Int
        /// `max_completion_tokens`, else `max_tokens`, as the request asked; nil when neither.
        var maxTokens: Int?
        /// `stream_options.include_usage`.
        var includeUsage: Bool
        /// `stop`, or `length` when `max_tokens` cut the answer; nil when not answered.
        var finishReason: String?
        /// The whole answer was written (for a stream: every chunk through `[DONE]` and the end
        /// of the body).
        var completed = false
        /// Writing a chunk of a streamed answer failed before the end: the client went away.
        var cancelled = false
        /// An injected `disconnect` dropped the connection.
        var disconnected = false

        enum CodingKeys: String, CodingKey {
            case index
            case keyHint = "key_hint"
            case model, messages, stream, status
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case maxTokens = "max_tokens"
            case includeUsage = "include_usage"
            case finishReason = "finish_reason"
            case completed, cancelled, disconnected
        }
    }

    /// How a streamed answer ended.
    enum StreamOutcome: Sendable {
        case completed
        case cancelled
        case disconnected
    }

    let keys: FakeKeyBook
    private var injections = FakeInjectionQueue<Injection>()
    private var requests: [RequestReport] = []
    private var nextIndex = 0

    init(validKeys: Set<String>) {
        keys = FakeKeyBook(valid: validKeys)
    }

    func inject(_ injection: Injection) { injections.push(injection) }

    func takeInjection() -> Injection? { injections.take() }

    /// Records a request and returns its index, for `finish`.
    @discardableResult
    func record(_ report: RequestReport) -> Int {
        var report = report
        report.index = nextIndex
        nextIndex += 1
        requests.append(report)
        return report.index
    }

    /// Marks how the streamed answer of request `index` ended (nothing if a reset dropped it).
    func finish(_ index: Int, _ outcome: StreamOutcome) {
        guard let position = requests.lastIndex(where: { $0.index == index }) else { return }
        switch outcome {
        case .completed: requests[position].completed = true
        case .cancelled: requests[position].cancelled = true
        case .disconnected: requests[position].disconnected = true
        }
    }

    func allRequests() -> [RequestReport] { requests }

    func reset() {
        injections.removeAll()
        requests = []
    }
}
