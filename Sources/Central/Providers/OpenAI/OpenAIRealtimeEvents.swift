/// What OpenAI's transcription events mean to the engine, pure (tested without a socket).
/// Each committed item of the input buffer is a sentence, numbered in commit order; its deltas
/// are interim text and its `.completed` the final one. Completions of different items may come
/// out of order, so everything is keyed by `item_id`.
struct OpenAIRealtimeEvents: Sendable {
    enum Step: Sendable, Equatable {
        case events([ProviderTaskEvent])
        case failed(ProviderFailure)
        case ignored
    }

    private struct Item {
        var sentenceID: Int
        var beginMs: Int
        var endMs: Int
        var text = ""
    }

    private var items: [String: Item] = [:]
    private var nextSentenceID = 0
    /// Where the audio of the next committed item begins (ms into the task's audio).
    private var committedUpToMs = 0
    /// Items committed and not yet completed or failed.
    private(set) var pending: Set<String> = []
    /// Whether the session is configured (`session.updated` came).
    private(set) var started = false
    /// OpenAI's duration-billed seconds for the task so far (token-billed models report none).
    private(set) var reportedSeconds = 0.0
    /// OpenAI's tokens for the task so far (token-billed models).
    private(set) var reportedTokens = 0

    /// `appendedMs`: audio appended so far, which a commit now covers.
    mutating func step(_ event: OpenAIRealtimeMessages.ServerEvent, appendedMs: Int) -> Step {
        switch event.type {
        case "session.updated", "transcription_session.updated":
            guard !started else { return .ignored }
            started = true
            return .events([.started])
        case "input_audio_buffer.committed":
            guard let id = event.itemID else { return .ignored }
            _ = item(id, endMs: appendedMs)
            pending.insert(id)
            return .ignored
        case "conversation.item.input_audio_transcription.delta":
            guard let id = event.itemID, let delta = event.delta, !delta.isEmpty else { return .ignored }
            var entry = item(id, endMs: appendedMs)
            entry.text += delta
            items[id] = entry
            return .events([.results([result(entry, final: false)])])
        case "conversation.item.input_audio_transcription.completed":
            guard let id = event.itemID else { return .ignored }
            var entry = item(id, endMs: appendedMs)
            entry.text = event.transcript ?? entry.text
            items[id] = nil
            pending.remove(id)
            var events: [ProviderTaskEvent] = []
            if let seconds = event.usage?.seconds, event.usage?.type == "duration", seconds.isFinite, seconds >= 0 {
                reportedSeconds += seconds
                events.append(.usage(seconds: Int(reportedSeconds.rounded())))
            }
            if event.usage?.type == "tokens" {
                let tokens = (event.usage?.inputTokens ?? 0) + (event.usage?.outputTokens ?? 0)
                reportedTokens += min(max(tokens, 0), 100_000_000)
                events.append(.tokens(reportedTokens))
            }
            events.append(.results([result(entry, final: true)]))
            return .events(events)
        case "conversation.item.input_audio_transcription.failed":
            // That turn's words are lost at OpenAI; the session goes on. A shown interim is closed.
            guard let id = event.itemID else { return .ignored }
            let entry = items.removeValue(forKey: id)
            pending.remove(id)
            guard var shown = entry, !shown.text.isEmpty else { return .ignored }
            shown.text = ""
            return .events([.results([result(shown, final: true)])])
        case "error":
            return Self.failure(event.error)
        default:
            // session.created, speech_started/stopped, item events: nothing for the engine.
            return .ignored
        }
    }

    /// The item, created (with the next sentence id and its audio span) when first seen.
    private mutating func item(_ id: String, endMs: Int) -> Item {
        if let existing = items[id] { return existing }
        let entry = Item(sentenceID: nextSentenceID, beginMs: committedUpToMs, endMs: max(endMs, committedUpToMs))
        nextSentenceID += 1
        committedUpToMs = entry.endMs
        items[id] = entry
        return entry
    }

    private func result(_ item: Item, final: Bool) -> ProviderTaskResult {
        ProviderTaskResult(
            kind: .transcript, sentenceID: item.sentenceID, beginMs: item.beginMs, endMs: item.endMs, text: item.text,
            language: nil, final: final)
    }

    /// OpenAI's `error` event, by its `code` and `type`.
    static func failure(_ error: OpenAIRealtimeMessages.ErrorBody?) -> Step {
        let code = error?.code ?? "", type = error?.type ?? ""
        let text = "\(type) \(code): \(error?.message ?? "error")"
        switch (type, code) {
        case (_, "input_audio_buffer_commit_empty"):
            // A commit with nothing new in the buffer (VAD committed it already): harmless.
            return .ignored
        case ("authentication_error", _), (_, "invalid_api_key"), (_, "insufficient_quota"):
            return .failed(.authFailed(text))
        case (_, "rate_limit_exceeded"), ("rate_limit_error", _):
            return .failed(.rateLimited(text))
        case (_, "session_expired"), ("server_error", _):
            return .failed(.transient(.providerUnavailable, text))
        default:
            return .failed(.fatal(.providerFailed, text))
        }
    }
}
