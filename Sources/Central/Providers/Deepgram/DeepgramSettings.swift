import Foundation
import NIOSSL
import Protocol

/// How central talks to Deepgram's live transcription (`/v1/listen`). Every value has an
/// environment variable (README, docs/providers.md).
public struct DeepgramSettings: Sendable {
    /// `DEEPGRAM_URL`: the hosted API by default; a self-hosted Deepgram or the fake go here.
    public var url = "wss://api.deepgram.com/v1/listen"
    /// `DEEPGRAM_MODEL`.
    public var model = "nova-3"
    /// `DEEPGRAM_LANGUAGES`: the source languages offered (Deepgram codes), transcription only.
    public var languages = ["en", "es", "fr", "de", "it", "pt", "nl", "ja", "ru", "hi"]
    /// `DEEPGRAM_ENDPOINTING_MS`: silence that ends a sentence (Deepgram's `endpointing`).
    public var endpointingMs = 300
    /// How long the upgrade may take (Deepgram sends nothing until results: an open socket is a
    /// started task).
    public var startTimeout: Duration = .seconds(10)
    /// How long the last results and `Metadata` may take after `CloseStream`.
    public var finishTimeout: Duration = .seconds(10)
    /// Deepgram closes a connection after 10 s without audio (NET-0001); central closes it
    /// itself after 8 s and reopens with the next audio, rather than paying for KeepAlives.
    public var idleFinishAfter: Duration = .seconds(8)
    /// A `KeepAlive` goes out after this long without audio, while the connection is kept.
    public var keepAliveAfter: Duration = .seconds(4)
    /// No session limit at Deepgram; a fresh connection every hour bounds what one carries.
    public var rotateAfterMs = 3_600_000
    public var retries = 3
    /// Frames queued for the provider (15 s): covers a reconnect or a key failover.
    public var inboxCapacity = 750
    public var tickInterval: Duration = .milliseconds(250)
    /// TLS for `wss://`; nil means the system trust roots.
    public var tlsConfiguration: TLSConfiguration?

    public init() {}

    public var timing: ProviderTiming {
        ProviderTiming(
            startTimeout: startTimeout, finishTimeout: finishTimeout, idleFinishAfter: idleFinishAfter,
            rotateAfterMs: rotateAfterMs, retries: retries, inboxCapacity: inboxCapacity, tickInterval: tickInterval)
    }

    /// Transcription only: Deepgram does not translate.
    var catalogLanguages: [LanguageCatalog.SourceLanguage] {
        languages.map { LanguageCatalog.SourceLanguage(source: $0, targets: [], transcription: true) }
    }
}

extension DeepgramSettings {
    /// `DEEPGRAM_URL`, `DEEPGRAM_MODEL`, `DEEPGRAM_LANGUAGES`, `DEEPGRAM_ENDPOINTING_MS`.
    mutating func read(_ environment: [String: String]) throws {
        typealias ConfigurationError = CentralConfiguration.ConfigurationError
        url = try ProviderSettingValue.webSocketURL(environment, "DEEPGRAM_URL") ?? url
        model = try ProviderSettingValue.token(environment, "DEEPGRAM_MODEL", example: "nova-3") ?? model
        languages = try ProviderSettingValue.codes(environment, "DEEPGRAM_LANGUAGES", example: "en,es,de") ?? languages
        if let text = environment["DEEPGRAM_ENDPOINTING_MS"] {
            guard let value = Int(text), (10...10_000).contains(value) else {
                throw ConfigurationError.invalid(name: "DEEPGRAM_ENDPOINTING_MS", value: text, expected: "milliseconds from 10 to 10000")
            }
            endpointingMs = value
        }
    }
}
