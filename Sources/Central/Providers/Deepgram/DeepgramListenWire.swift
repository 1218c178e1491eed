import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Protocol

/// Deepgram's live transcription (`/v1/listen`) as a `ProviderWire`: one connection per task,
/// `Authorization: Token <key>`, the edge's Opus passed through in a fresh Ogg stream per
/// connection with no `encoding` or `sample_rate` (Deepgram reads the container), `CloseStream`
/// at the end, and `Metadata.duration` as the provider's own figure. Recognition only.
public struct DeepgramListenWire: ProviderWire {
    public static let name = "deepgram"

    public let settings: DeepgramSettings

    public init(settings: DeepgramSettings) {
        self.settings = settings
    }

    public var info: ProviderInfo { ProviderInfo(name: Self.name, model: settings.model, demo: false) }

    public var displayName: String { "Deepgram" }

    public var languages: [LanguageCatalog.SourceLanguage] { settings.catalogLanguages }

    public var timing: ProviderTiming { settings.timing }

    public func check(_ configuration: ProviderSessionConfiguration) throws(ProviderError) {
        guard configuration.targetLanguage == nil else {
            throw ProviderError(.unsupportedLanguagePair, "Deepgram transcribes only; it does not translate")
        }
    }

    /// The connection URL: the model, language and result options, and the session id as
    /// Deepgram's `tag`, which joins its usage breakdown to our sessions.
    func url(for configuration: ProviderSessionConfiguration) -> String {
        let query: [(String, String)] = [
            ("model", settings.model), ("language", configuration.sourceLanguage), ("interim_results", "true"),
            ("endpointing", String(settings.endpointingMs)), ("utterance_end_ms", "1000"), ("vad_events", "true"),
            ("smart_format", "true"), ("punctuate", "true"),
            ("tag", configuration.sessionID), ("mip_opt_out", "true"),
        ]
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.~"))
        let encoded = query.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }
        return settings.url + "?" + encoded.joined(separator: "&")
    }

    public func withTask(
        key: ProviderKeyLease, configuration: ProviderSessionConfiguration, logger: Logger,
        _ body: @escaping @Sendable (any ProviderTaskChannel) async throws -> Void
    ) async throws {
        let url = url(for: configuration)
        var wsConfiguration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        let authorization = "Token \(key.secret)"
        wsConfiguration.additionalHeaders = [.authorization: authorization, .userAgent: "speech-edge-central/1"]
        let keepAliveAfter = settings.keepAliveAfter
        do {
            try await WebSocketClient.connect(
                url: url, configuration: wsConfiguration, tlsConfiguration: settings.tlsConfiguration, logger: logger
            ) { inbound, outbound, _ in
                let channel = DeepgramTaskChannel(
                    taskID: "deepgram-" + UUID().uuidString.prefix(8).lowercased(), codec: configuration.codec,
                    inbound: inbound, outbound: outbound, logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await channel.keepAlive(after: keepAliveAfter) }
                    try await body(channel)
                    group.cancelAll()
                }
            }
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            // A 4xx at the upgrade is final for the request (a retry would be refused the same way).
            throw await RefusedUpgrade.classify(
                url: url, authorization: authorization, provider: displayName, clientErrorsAreFinal: true)
        }
    }
}
