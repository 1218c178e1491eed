/// What Deepgram's messages mean to the engine, pure (tested without a socket). Deepgram has
/// no sentence ids: a sentence is the run of interim results that ends with an `is_final` one,
/// numbered within the connection; its times are offsets into the connection's audio.
struct DeepgramTaskEvents: Sendable {
    enum Step: Sendable, Equatable {
        case events([ProviderTaskEvent])
        /// `Metadata` after `CloseStream`: these events, then the connection is done.
        case finished([ProviderTaskEvent])
        case failed(ProviderFailure)
        /// `UtteranceEnd`: the speaker's turn is over; the channel answers with `Finalize`, so
        /// the turn's last words are final now rather than at the next endpoint.
        case turnEnded
        case ignored
    }

    private var sentenceID = 0
    /// Whether the current sentence has shown an interim (its final must then be sent, even
    /// empty, so the page replaces it).
    private var interimShown = false

    mutating func step(_ message: DeepgramWire.Message) -> Step {
        switch message.type {
        case "Results":
            return .events(results(message))
        case "Metadata":
            // What Deepgram bills for the connection: its `duration`, in whole seconds here.
            let seconds = message.duration.map { Int(($0).rounded()) }
            return .finished(seconds.map { [.usage(seconds: $0)] } ?? [])
        case "Error":
            let text = [message.variant, message.description ?? message.message].compactMap { $0 }.joined(separator: ": ")
            return .failed(.transient(.providerUnavailable, "Deepgram error: \(text)"))
        case "UtteranceEnd":
            return .turnEnded
        default:
            // SpeechStarted: the engine does not need it.
            return .ignored
        }
    }

    private mutating func results(_ message: DeepgramWire.Message) -> [ProviderTaskEvent] {
        let text = message.channel?.alternatives.first?.transcript ?? ""
        let final = message.isFinal ?? false
        if text.isEmpty && !(final && interimShown) { return [] }
        let begin = message.start.map { Int(($0 * 1000).rounded()) }
        let end = message.start.flatMap { start in message.duration.map { Int(((start + $0) * 1000).rounded()) } }
        let result = ProviderTaskResult(
            kind: .transcript, sentenceID: sentenceID, beginMs: begin, endMs: end, text: text, language: nil, final: final)
        if final {
            sentenceID += 1
            interimShown = false
        } else {
            interimShown = true
        }
        return [.results([result])]
    }
}
