import Foundation
import Logging
import Protocol

/// Alibaba Cloud DashScope realtime speech (Gummy translation, Paraformer / Fun-ASR recognition)
/// over the "inference" duplex WebSocket protocol. The edge's Opus packets are passed through,
/// wrapped in a fresh Ogg Opus stream per task; nothing is decoded.
public struct DashScopeSpeechProvider: SpeechProvider {
    public static let name = "dashscope"

    let settings: DashScopeSettings
    let keys: any ProviderKeySource
    let logger: Logger

    public init(settings: DashScopeSettings, keys: any ProviderKeySource, logger: Logger) {
        self.settings = settings
        self.keys = keys
        self.logger = logger
    }

    public var info: ProviderInfo { ProviderInfo(name: Self.name, model: settings.model.rawValue, demo: false) }

    public var catalog: LanguageCatalog { LanguageCatalog(provider: info, languages: settings.model.languages) }

    public func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
        if settings.model == .funASRRealtime, configuration.codec.sampleRate != 16_000 {
            throw ProviderError(.unsupportedLanguagePair, "fun-asr-realtime takes 16 kHz audio only")
        }
        // Fail at the start, not mid-stream, when no key can be used at all.
        guard let first = await keys.checkout(provider: Self.name) else {
            throw ProviderError(.providerUnavailable, "No usable DashScope key: add one, or wait for a throttled key to cool down.")
        }
        return DashScopeProviderSession(
            configuration: configuration, settings: settings, keys: keys, firstKey: first,
            logger: logger.with(metadata: ["session": "\(configuration.sessionID)"]))
    }
}

extension Logger {
    func with(metadata: Logger.Metadata) -> Logger {
        var copy = self
        for (key, value) in metadata { copy[metadataKey: key] = value }
        return copy
    }
}
