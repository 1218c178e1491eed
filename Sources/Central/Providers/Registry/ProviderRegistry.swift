import Protocol

/// The speech providers central runs, by name, in the configured order; the first is the
/// default. A session opens on the provider its license names (copied from its plan), or else
/// on the first provider that serves its language pair. The catalog a license sees is the union
/// of what it may use, each pair naming the provider that would serve it.
public struct ProviderRegistry: Sendable {
    public enum RegistryError: Error, Equatable, CustomStringConvertible {
        case duplicate(String)

        public var description: String {
            switch self {
            case .duplicate(let name): "The speech provider '\(name)' is configured twice."
            }
        }
    }

    /// In the order they are tried.
    public let providers: [any SpeechProvider]
    /// The default provider (the first configured).
    public let first: any SpeechProvider
    private let byName: [String: any SpeechProvider]
    /// Built once: the catalog is asked for on every page load.
    private let union: LanguageCatalog
    private let catalogs: [String: LanguageCatalog]

    /// `first`, then `more`, in that order; names must be unique.
    public init(_ first: any SpeechProvider, _ more: [any SpeechProvider] = []) throws(RegistryError) {
        var byName = [first.info.name: first]
        for provider in more {
            guard byName.updateValue(provider, forKey: provider.info.name) == nil else {
                throw RegistryError.duplicate(provider.info.name)
            }
        }
        self.init(first: first, more: more, byName: byName)
    }

    /// One provider: what a single-provider central (and most tests) runs.
    public init(single provider: any SpeechProvider) {
        self.init(first: provider, more: [], byName: [provider.info.name: provider])
    }

    private init(first: any SpeechProvider, more: [any SpeechProvider], byName: [String: any SpeechProvider]) {
        self.first = first
        providers = [first] + more
        self.byName = byName
        union = Self.union(first, more)
        catalogs = byName.mapValues { Self.union($0, []) }
    }

    public var names: [String] { providers.map(\.info.name) }

    public func provider(named name: String) -> (any SpeechProvider)? {
        byName[name]
    }

    /// The provider a session opens on: the license's choice when it names one (refused when
    /// that provider is not configured here or cannot serve the pair), else the first that
    /// serves the pair.
    public func provider(for choice: String?, source: String, target: String?) throws(ProtocolError) -> any SpeechProvider {
        if let choice {
            guard let chosen = byName[choice] else {
                throw ProtocolError(.providerUnavailable, "The license's speech provider '\(choice)' is not available on this central.")
            }
            guard chosen.supports(source: source, target: target) else { throw Self.unsupported(chosen.info.name, source, target) }
            return chosen
        }
        guard let serving = providers.first(where: { $0.supports(source: source, target: target) }) else {
            throw Self.unsupported(names.joined(separator: ", "), source, target)
        }
        return serving
    }

    /// What `GET /v1/providers` answers a license with: its provider's pairs when it names one,
    /// else the union of every configured provider's.
    public func catalog(for choice: String?) -> LanguageCatalog {
        guard let choice else { return union }
        return catalogs[choice]
            ?? LanguageCatalog(provider: ProviderInfo(name: choice, model: nil, demo: false), languages: [], providers: [])
    }

    private static func unsupported(_ providers: String, _ source: String, _ target: String?) -> ProtocolError {
        ProtocolError(.unsupportedLanguagePair, "\(providers) cannot translate \(source) to \(target ?? "-")")
    }

    /// Every provider's pairs merged by source, in provider order: a pair names the first
    /// provider that offers it, which is the one a session without a choice opens on.
    private static func union(_ first: any SpeechProvider, _ more: [any SpeechProvider]) -> LanguageCatalog {
        let providers = [first] + more
        var languages: [LanguageCatalog.SourceLanguage] = []
        var index: [String: Int] = [:]
        for provider in providers {
            let name = provider.info.name
            for offered in provider.catalog.languages {
                let position = index[offered.source] ?? {
                    languages.append(.init(source: offered.source, targets: [], transcription: false, targetProviders: [:]))
                    index[offered.source] = languages.count - 1
                    return languages.count - 1
                }()
                var merged = languages[position]
                for target in offered.targets where !merged.targets.contains(target) {
                    merged.targets.append(target)
                    merged.targetProviders?[target] = name
                }
                if offered.transcription, !merged.transcription {
                    merged.transcription = true
                    merged.transcriptionProvider = name
                }
                languages[position] = merged
            }
        }
        return LanguageCatalog(provider: first.info, languages: languages, providers: providers.map(\.info))
    }
}
