import Protocol

/// What one DashScope event means to the engine: pure, so the `dashscope-event` fuzz target
/// runs exactly what `DashScopeTaskChannel` runs.
enum DashScopeTaskEvents {
    enum Step: Sendable, Equatable {
        /// Events for the engine; the task goes on.
        case events([ProviderTaskEvent])
        /// `task-finished`: these events, then the task is over.
        case finished([ProviderTaskEvent])
        case failed(ProviderFailure)
        /// Another task's event, or one the engine does not need.
        case ignored
    }

    static func step(_ event: DashScopeWire.Event, taskID: String) -> Step {
        guard event.header.taskID == taskID else { return .ignored }
        switch event.header.event {
        case "task-started":
            return .events([.started])
        case "result-generated":
            return .events(event.payload.map(events) ?? [])
        case "task-finished":
            return .finished(event.payload?.usage?.duration.map { [.usage(seconds: $0)] } ?? [])
        case "task-failed":
            return .failed(failure(taskFailedCode: event.header.errorCode, message: event.header.errorMessage))
        default:
            return .ignored
        }
    }

    /// A `result-generated` payload: its usage (DashScope reports the task's running total),
    /// then its sentences.
    static func events(_ payload: DashScopeWire.EventPayload) -> [ProviderTaskEvent] {
        var events: [ProviderTaskEvent] = []
        if let seconds = payload.usage?.duration { events.append(.usage(seconds: seconds)) }
        let results = results(payload)
        if !results.isEmpty { events.append(.results(results)) }
        return events
    }

    /// Paraformer/Fun-ASR put the recognised sentence in `sentence`, Gummy in `transcription` plus
    /// `translations`. A Paraformer heartbeat carries no speech; Gummy's stash (the unfinished
    /// start of the next sentence) belongs to an interim's text.
    static func results(_ payload: DashScopeWire.EventPayload) -> [ProviderTaskResult] {
        guard let output = payload.output else { return [] }
        var results: [ProviderTaskResult] = []
        if let sentence = output.sentence ?? output.transcription, sentence.heartbeat != true {
            results.append(result(sentence, kind: .transcript))
        }
        for translation in output.translations ?? [] {
            results.append(result(translation, kind: .translation))
        }
        return results
    }

    private static func result(_ sentence: DashScopeWire.Sentence, kind: ProviderTaskResult.Kind) -> ProviderTaskResult {
        let final = sentence.sentenceEnd ?? false
        var text = sentence.text
        if !final, let stash = sentence.stash?.text { text += stash }
        return ProviderTaskResult(
            kind: kind, sentenceID: sentence.sentenceID ?? 0, beginMs: sentence.beginTime, endMs: sentence.endTime,
            text: text, language: sentence.lang, final: final)
    }

    /// Maps a `task-failed` event's `error_code` (DashScope's own names) to the engine's handling.
    static func failure(taskFailedCode code: String?, message: String?) -> ProviderFailure {
        let code = code ?? ""
        let text = "\(code): \(message ?? "task failed")"
        switch code {
        case "InvalidApiKey", "Unauthorized", "AccessDenied", "Arrearage", "AccessDenied.Unpurchased":
            return .authFailed(text)
        case _ where code.hasPrefix("Throttling"), "RateLimitExceeded", "TooManyRequests":
            return .rateLimited(text)
        case "InternalError", "ServiceUnavailable", "RequestTimeOut", "InternalError.Timeout", "InternalError.Algo", "CLIENT_ERROR":
            return .transient(.providerUnavailable, text)
        case "InvalidParameter" where (message ?? "").localizedCaseInsensitiveContains("language"):
            return .fatal(.unsupportedLanguagePair, text)
        default:
            return .fatal(.providerFailed, text)
        }
    }
}
