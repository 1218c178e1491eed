/// What the serving provider can do: which source languages it hears and which targets it can
/// translate each into. Central answers `GET /v1/providers` with it; the edge passes it on at
/// `GET /api/languages` so the page offers valid pairs only.
public struct LanguageCatalog: Codable, Equatable, Sendable {
    public var provider: ProviderInfo
    public var languages: [SourceLanguage]

    public init(provider: ProviderInfo, languages: [SourceLanguage]) {
        self.provider = provider
        self.languages = languages
    }

    /// True when `source` → `target` is offered (`target` nil: transcription only).
    public func supports(source: String, target: String?) -> Bool {
        guard let entry = languages.first(where: { $0.source == source }) else { return false }
        guard let target else { return entry.transcription }
        return entry.targets.contains(target)
    }

    public struct SourceLanguage: Codable, Equatable, Sendable {
        /// Language code of the speech, e.g. `zh`.
        public var source: String
        /// Languages this source can be translated into.
        public var targets: [String]
        /// Whether transcription alone (no target) is offered.
        public var transcription: Bool

        public init(source: String, targets: [String], transcription: Bool) {
            self.source = source
            self.targets = targets
            self.transcription = transcription
        }
    }
}
