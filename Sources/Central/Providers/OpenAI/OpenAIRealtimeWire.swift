import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Protocol

/// OpenAI's Realtime API in a transcription session as a `ProviderWire`: one WebSocket per
/// task at `…/v1/realtime?intent=transcription` (no `model` in the URL), `Authorization:
/// Bearer`, the GA `session.update` with `type: "transcription"`, PCM16 at 24 kHz decoded from
/// the edge's Opus on central. Recognition only.
public struct OpenAIRealtimeWire: ProviderWire {
    public static let name = "openai"

    public let settings: OpenAIRealtimeSettings

    public init(settings: OpenAIRealtimeSettings) {
        self.settings = settings
    }

    public var info: ProviderInfo { ProviderInfo(name: Self.name, model: settings.model, demo: false) }

    public var displayName: String { "OpenAI" }

    public var languages: [LanguageCatalog.SourceLanguage] { settings.catalogLanguages }

    public var timing: ProviderTiming { settings.timing }

    public func check(_ configuration: ProviderSessionConfiguration) throws(ProviderError) {
        guard configuration.targetLanguage == nil else {
            throw ProviderError(.unsupportedLanguagePair, "OpenAI realtime transcription transcribes only; it does not translate")
        }
    }

    var sessionURL: String { settings.url + "?intent=transcription" }

    public func withTask(
        key: ProviderKeyLease, configuration: ProviderSessionConfiguration, logger: Logger,
        _ body: @escaping @Sendable (any ProviderTaskChannel) async throws -> Void
    ) async throws {
        var wsConfiguration = WebSocketClientConfiguration(maxFrameSize: 1 << 22)
        let authorization = "Bearer \(key.secret)"
        wsConfiguration.additionalHeaders = [.authorization: authorization, .userAgent: "speech-edge-central/1"]
        let update = OpenAIRealtimeMessages.sessionUpdate(
            model: settings.model, language: configuration.sourceLanguage, serverVAD: settings.usesServerVAD)
        let serverVAD = settings.usesServerVAD, appendMs = settings.appendMs
        do {
            try await WebSocketClient.connect(
                url: sessionURL, configuration: wsConfiguration, tlsConfiguration: settings.tlsConfiguration, logger: logger
            ) { inbound, outbound, _ in
                try await outbound.write(.text(OpenAIRealtimeTaskChannel.text(update)))
                try await body(OpenAIRealtimeTaskChannel(
                    taskID: "openai-" + UUID().uuidString.prefix(8).lowercased(), serverVAD: serverVAD, appendMs: appendMs,
                    inbound: inbound, outbound: outbound, logger: logger))
            }
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            throw await RefusedUpgrade.classify(
                url: sessionURL, authorization: authorization, provider: displayName, clientErrorsAreFinal: true)
        }
    }
}
