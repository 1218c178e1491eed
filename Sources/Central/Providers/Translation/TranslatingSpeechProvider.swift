import Protocol

/// A recognition-only provider (Paraformer, Fun-ASR, Deepgram, OpenAI transcription) with
/// translation added: each final sentence goes through the chat-completions translator and
/// comes back as a `translation` message, as Gummy's do. Pairs the provider serves itself are
/// passed straight through.
public struct TranslatingSpeechProvider: SpeechProvider {
    public let inner: any SpeechProvider
    let translator: ChatCompletionsTranslator
    let targets: [String]

    public init(_ inner: any SpeechProvider, translator: ChatCompletionsTranslator, targets: [String]) {
        self.inner = inner
        self.translator = translator
        self.targets = targets
    }

    public var info: ProviderInfo { inner.info }

    /// Every source the provider transcribes gains the translator's targets.
    public var catalog: LanguageCatalog {
        var catalog = inner.catalog
        catalog.languages = catalog.languages.map { entry in
            guard entry.transcription else { return entry }
            var widened = entry
            widened.targets += targets.filter { $0 != entry.source && !entry.targets.contains($0) }
            return widened
        }
        return catalog
    }

    public func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
        guard let target = configuration.targetLanguage, !inner.supports(source: configuration.sourceLanguage, target: target) else {
            return try await inner.openSession(configuration)
        }
        var recognition = configuration
        recognition.targetLanguage = nil
        let session = try await inner.openSession(recognition)
        return TranslatingSession(
            inner: session, translator: translator, source: configuration.sourceLanguage, target: target,
            timeout: translator.settings.timeout)
    }
}
