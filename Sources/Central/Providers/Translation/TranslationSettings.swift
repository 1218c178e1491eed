import Foundation

/// The OpenAI-compatible chat-completions upstream that translates final sentences for the
/// recognition-only providers (Paraformer, Fun-ASR, Deepgram, OpenAI transcription). Off unless
/// `TRANSLATION_URL` is set. Its keys are in the vault under `translation`.
public struct TranslationSettings: Sendable {
    /// The vault's provider name for the upstream's keys (`TRANSLATION_API_KEYS`, …).
    public static let keyProvider = "translation"

    /// `TRANSLATION_URL`: the API base, e.g. `https://api.deepseek.com/v1` or DashScope's
    /// compatible mode `https://dashscope.aliyuncs.com/compatible-mode/v1`; `/chat/completions`
    /// is added. nil: no translation for recognition-only providers.
    public var baseURL: String?
    /// `TRANSLATION_MODEL`.
    public var model = "deepseek-chat"
    /// `TRANSLATION_TARGETS`: the target languages offered on top of each source.
    public var targets = ["en", "zh", "ja", "ko", "es", "fr", "de"]
    /// `TRANSLATION_TIMEOUT_SECONDS`: a sentence's translation arrives within this or is sent
    /// marked failed; the session goes on either way.
    public var timeout: Duration = .seconds(8)

    public init() {}

    public var enabled: Bool { baseURL != nil }

    /// `TRANSLATION_URL`, `TRANSLATION_MODEL`, `TRANSLATION_TARGETS`, `TRANSLATION_TIMEOUT_SECONDS`.
    mutating func read(_ environment: [String: String]) throws {
        typealias ConfigurationError = CentralConfiguration.ConfigurationError
        if let url = environment["TRANSLATION_URL"], !url.isEmpty {
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains("?"), URL(string: url) != nil else {
                throw ConfigurationError.invalid(name: "TRANSLATION_URL", value: url, expected: "an http(s):// API base such as https://api.deepseek.com/v1")
            }
            baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        model = try ProviderSettingValue.token(environment, "TRANSLATION_MODEL", example: "deepseek-chat") ?? model
        targets = try ProviderSettingValue.codes(environment, "TRANSLATION_TARGETS", example: "en,zh") ?? targets
        if let text = environment["TRANSLATION_TIMEOUT_SECONDS"] {
            timeout = .milliseconds(Int(try CentralConfiguration.parseSeconds(text, name: "TRANSLATION_TIMEOUT_SECONDS") * 1000))
        }
    }
}
