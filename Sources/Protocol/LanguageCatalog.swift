/// What the serving providers can do: which source languages they hear and which targets they
/// can translate each into. Central answers `GET /v1/providers` with it (the union of the
/// providers a license may use, each pair naming the provider that serves it); the edge passes
/// it on at `GET /api/languages` so the page offers valid pairs only.
public struct LanguageCatalog: Codable, Equatable, Sendable {
    /// The default provider: the one a session opens on when it serves the pair.
    public var provider: ProviderInfo
    public var languages: [SourceLanguage]
    /// Every provider in the catalog, in the order central tries them (absent from older centrals).
    public var providers: [ProviderInfo]?

    public init(provider: ProviderInfo, languages: [SourceLanguage], providers: [ProviderInfo]? = nil) {
        self.provider = provider
        self.languages = languages
        self.providers = providers
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
        /// The provider that serves transcription alone (absent from older centrals).
        public var transcriptionProvider: String?
        /// For each target, the provider that serves the pair (absent from older centrals).
        public var targetProviders: [String: String]?

        public init(
            source: String, targets: [String], transcription: Bool, transcriptionProvider: String? = nil,
            targetProviders: [String: String]? = nil
        ) {
            self.source = source
            self.targets = targets
            self.transcription = transcription
            self.transcriptionProvider = transcriptionProvider
            self.targetProviders = targetProviders
        }

        enum CodingKeys: String, CodingKey {
            case source, targets, transcription
            case transcriptionProvider = "transcription_provider"
            case targetProviders = "target_providers"
        }
    }
}
