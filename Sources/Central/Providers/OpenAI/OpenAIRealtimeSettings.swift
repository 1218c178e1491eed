import Foundation
import NIOSSL
import Protocol

/// How central talks to OpenAI's Realtime API in a transcription session. Every value has an
/// environment variable (README, docs/providers.md).
public struct OpenAIRealtimeSettings: Sendable {
    /// `OPENAI_REALTIME_URL`: the Realtime endpoint without a query; `?intent=transcription` is
    /// added (a `model` in the URL would make it a conversation session).
    public var url = "wss://api.openai.com/v1/realtime"
    /// `OPENAI_TRANSCRIBE_MODEL`.
    public var model = "gpt-4o-transcribe"
    /// `OPENAI_TURN_DETECTION`: `server_vad` (OpenAI finds the turns) or `none` (central commits
    /// at the turn ends its energy segmenter finds). Models that refuse VAD get `none` anyway.
    public var serverVAD = true
    /// `OPENAI_LANGUAGES`: source languages offered (ISO-639-1), transcription only.
    public var languages = ["en", "zh", "es", "fr", "de", "ja", "ko", "pt", "it", "ru"]
    public var startTimeout: Duration = .seconds(10)
    /// How long the last transcriptions may take after the final commit.
    public var finishTimeout: Duration = .seconds(15)
    public var idleFinishAfter: Duration = .seconds(10)
    /// A session lives at most 60 minutes at OpenAI: rotate well before, at a sentence end.
    public var rotateAfterMs = 50 * 60_000
    public var retries = 3
    public var inboxCapacity = 750
    public var tickInterval: Duration = .milliseconds(250)
    /// Audio per `input_audio_buffer.append` (OpenAI suggests ~100 ms chunks).
    public var appendMs = 100
    public var tlsConfiguration: TLSConfiguration?

    public init() {}

    /// gpt-live-transcribe and gpt-realtime-whisper take no server VAD: each turn is committed.
    public static let modelsWithoutVAD: Set<String> = ["gpt-live-transcribe", "gpt-realtime-whisper"]

    /// Whether sessions ask OpenAI to find the turns.
    public var usesServerVAD: Bool { serverVAD && !Self.modelsWithoutVAD.contains(model) }

    public var timing: ProviderTiming {
        ProviderTiming(
            startTimeout: startTimeout, finishTimeout: finishTimeout, idleFinishAfter: idleFinishAfter,
            rotateAfterMs: rotateAfterMs, retries: retries, inboxCapacity: inboxCapacity, tickInterval: tickInterval)
    }

    var catalogLanguages: [LanguageCatalog.SourceLanguage] {
        languages.map { LanguageCatalog.SourceLanguage(source: $0, targets: [], transcription: true) }
    }
}

extension OpenAIRealtimeSettings {
    /// `OPENAI_REALTIME_URL`, `OPENAI_TRANSCRIBE_MODEL`, `OPENAI_TURN_DETECTION`, `OPENAI_LANGUAGES`.
    mutating func read(_ environment: [String: String]) throws {
        typealias ConfigurationError = CentralConfiguration.ConfigurationError
        url = try ProviderSettingValue.webSocketURL(environment, "OPENAI_REALTIME_URL") ?? url
        model = try ProviderSettingValue.token(environment, "OPENAI_TRANSCRIBE_MODEL", example: "gpt-4o-transcribe") ?? model
        if let mode = environment["OPENAI_TURN_DETECTION"], !mode.isEmpty {
            guard ["server_vad", "none"].contains(mode) else {
                throw ConfigurationError.invalid(name: "OPENAI_TURN_DETECTION", value: mode, expected: "server_vad or none")
            }
            serverVAD = mode == "server_vad"
        }
        languages = try ProviderSettingValue.codes(environment, "OPENAI_LANGUAGES", example: "en,zh") ?? languages
    }
}
