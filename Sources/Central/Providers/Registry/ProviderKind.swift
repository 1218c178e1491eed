import Logging

/// One kind of speech provider central can run, by name: whether it takes provider keys (and
/// the prefix of its key variables), and how it is built from its settings. Adding a provider
/// is adding its kind here, its settings to `ProviderSettings`, and its wire.
struct ProviderKind: Sendable {
    let name: String
    /// `DASHSCOPE` for `DASHSCOPE_API_KEYS`, `DASHSCOPE_API_KEY` and `DASHSCOPE_API_KEY_FILE`;
    /// nil for a provider that takes no keys.
    let keyVariablePrefix: String?
    let make: @Sendable (ProviderSettings, any ProviderKeySource, Logger) -> any SpeechProvider

    var takesKeys: Bool { keyVariablePrefix != nil }

    /// Every kind, in the order an unconfigured central considers them.
    static let all: [ProviderKind] = [
        ProviderKind(name: DashScopeInferenceWire.name, keyVariablePrefix: "DASHSCOPE") { settings, keys, logger in
            DashScopeSpeechProvider(settings: settings.dashScope, keys: keys, logger: logger)
        },
        ProviderKind(name: DeepgramListenWire.name, keyVariablePrefix: "DEEPGRAM") { settings, keys, logger in
            DeepgramSpeechProvider(settings: settings.deepgram, keys: keys, logger: logger)
        },
        ProviderKind(name: OpenAIRealtimeWire.name, keyVariablePrefix: "OPENAI") { settings, keys, logger in
            OpenAIRealtimeSpeechProvider(settings: settings.openAI, keys: keys, logger: logger)
        },
        ProviderKind(name: DemoSpeechProvider.name, keyVariablePrefix: nil) { _, _, _ in DemoSpeechProvider() },
        ProviderKind(name: NullSpeechProvider.name, keyVariablePrefix: nil) { _, _, _ in NullSpeechProvider() },
    ]

    static var names: [String] { all.map(\.name) }

    /// Everything that stores keys in the vault, by name, with its key variables' prefix: the
    /// speech providers that take keys, and the LLM translation upstream.
    static var keyedServices: [(name: String, prefix: String)] {
        all.compactMap { kind in kind.keyVariablePrefix.map { (kind.name, $0) } } + [(TranslationSettings.keyProvider, "TRANSLATION")]
    }

    /// The names the vault and the admin API accept for keys.
    static var keyed: [String] { keyedServices.map(\.name) }

    static func named(_ name: String) -> ProviderKind? {
        all.first { $0.name == name }
    }
}
