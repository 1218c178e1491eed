import Foundation

/// Which speech providers central runs, in which order, and each one's settings. Every value
/// has an environment variable (README, docs/providers.md).
public struct ProviderSettings: Sendable {
    /// `SPEECH_PROVIDERS` (or `SPEECH_PROVIDER` for one): the providers to run, in the order a
    /// session without a choice tries them; the first is the default. nil: every provider that
    /// has keys (`dashscope`, `deepgram`, `openai`), else `demo`.
    public var enabled: [String]?
    /// `DASHSCOPE_URL`, `DASHSCOPE_MODEL`, `DASHSCOPE_WORKSPACE`, `DASHSCOPE_ROTATE_SECONDS`.
    public var dashScope = DashScopeSettings()
    /// `DEEPGRAM_URL`, `DEEPGRAM_MODEL`, `DEEPGRAM_LANGUAGES`, `DEEPGRAM_ENDPOINTING_MS`.
    public var deepgram = DeepgramSettings()
    /// `OPENAI_REALTIME_URL`, `OPENAI_TRANSCRIBE_MODEL`, `OPENAI_TURN_DETECTION`, `OPENAI_LANGUAGES`.
    public var openAI = OpenAIRealtimeSettings()
    /// `TRANSLATION_URL`, `TRANSLATION_MODEL`, `TRANSLATION_TARGETS`, `TRANSLATION_TIMEOUT_SECONDS`:
    /// LLM translation for recognition-only providers.
    public var translation = TranslationSettings()
    /// `CHAT_UPSTREAMS`, `CHAT_TIMEOUT_SECONDS`, …: the OpenAI-compatible chat proxy's upstreams.
    public var chat = ChatSettings()
    /// Provider keys from `<PREFIX>_API_KEYS` / `<PREFIX>_API_KEY`, by provider name.
    public var environmentKeys: [String: [String]] = [:]
    /// Provider keys from `<PREFIX>_API_KEY_FILE` (one per line), by provider name.
    public var fileKeys: [String: [String]] = [:]
    /// `<PREFIX>_MAX_TASKS_PER_KEY`: the most tasks one key may run at once, by provider name.
    public var maxTasksPerKey: [String: Int] = [:]

    public init() {}

    typealias ConfigurationError = CentralConfiguration.ConfigurationError

    /// Reads every provider variable from `environment`.
    static func fromEnvironment(_ environment: [String: String]) throws -> ProviderSettings {
        var settings = ProviderSettings()
        settings.enabled = try enabledProviders(environment)
        try settings.dashScope.read(environment)
        try settings.deepgram.read(environment)
        try settings.openAI.read(environment)
        try settings.translation.read(environment)
        try settings.chat.read(environment)
        for (name, prefix) in settings.keyedServices {
            if let text = environment["\(prefix)_MAX_TASKS_PER_KEY"], !text.isEmpty {
                guard let tasks = Int(text), (1...100_000).contains(tasks) else {
                    throw ConfigurationError.invalid(name: "\(prefix)_MAX_TASKS_PER_KEY", value: text, expected: "an integer from 1 to 100000")
                }
                settings.maxTasksPerKey[name] = tasks
            }
            // Secrets are never echoed in an error message.
            let listed = (environment["\(prefix)_API_KEYS"] ?? "").split(separator: ",")
                + [Substring(environment["\(prefix)_API_KEY"] ?? "")]
            settings.environmentKeys[name] = listed.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let file = environment["\(prefix)_API_KEY_FILE"], !file.isEmpty {
                settings.fileKeys[name] = try CentralConfiguration.readSecret(file: file, name: "\(prefix)_API_KEY_FILE")
                    .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            }
        }
        return settings
    }

    /// Everything that stores keys in the vault, by name, with its key variables' prefix: the
    /// speech providers that take keys, the LLM translation upstream and the chat upstreams.
    var keyedServices: [(name: String, prefix: String)] { ProviderKind.keyedServices + chat.keyedServices }

    /// `SPEECH_PROVIDERS=dashscope,demo` or `SPEECH_PROVIDER=dashscope`; not both.
    private static func enabledProviders(_ environment: [String: String]) throws -> [String]? {
        let list = environment["SPEECH_PROVIDERS"].flatMap { $0.isEmpty ? nil : $0 }
        let single = environment["SPEECH_PROVIDER"].flatMap { $0.isEmpty ? nil : $0 }
        let known = ProviderKind.names.joined(separator: ", ")
        if let single {
            guard list == nil else {
                throw ConfigurationError.invalid(name: "SPEECH_PROVIDER", value: single, expected: "unset when SPEECH_PROVIDERS is set")
            }
            guard ProviderKind.named(single) != nil else {
                throw ConfigurationError.invalid(name: "SPEECH_PROVIDER", value: single, expected: "one of \(known)")
            }
            return [single]
        }
        guard let list else { return nil }
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, names.allSatisfy({ ProviderKind.named($0) != nil }), Set(names).count == names.count else {
            throw ConfigurationError.invalid(
                name: "SPEECH_PROVIDERS", value: list, expected: "a comma-separated list of distinct providers from \(known)")
        }
        return names
    }
}
