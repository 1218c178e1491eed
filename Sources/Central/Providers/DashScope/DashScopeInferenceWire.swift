import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Protocol

/// DashScope's "inference" duplex WebSocket protocol as a `ProviderWire`: one connection per
/// task, authorised with the key, opened with `run-task`. The edge's Opus packets are passed
/// through, wrapped in a fresh Ogg Opus stream per task; nothing is decoded.
public struct DashScopeInferenceWire: ProviderWire {
    public static let name = "dashscope"

    public let settings: DashScopeSettings

    public init(settings: DashScopeSettings) {
        self.settings = settings
    }

    public var info: ProviderInfo { ProviderInfo(name: Self.name, model: settings.model.rawValue, demo: false) }

    public var displayName: String { "DashScope" }

    public var languages: [LanguageCatalog.SourceLanguage] { settings.model.languages }

    public var timing: ProviderTiming { settings.timing }

    public func check(_ configuration: ProviderSessionConfiguration) throws(ProviderError) {
        if settings.model == .funASRRealtime, configuration.codec.sampleRate != 16_000 {
            throw ProviderError(.unsupportedLanguagePair, "fun-asr-realtime takes 16 kHz audio only")
        }
    }

    public func withTask(
        key: ProviderKeyLease, configuration: ProviderSessionConfiguration, logger: Logger,
        _ body: @escaping @Sendable (any ProviderTaskChannel) async throws -> Void
    ) async throws {
        let taskID = DashScopeWire.newTaskID()
        var wsConfiguration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        var headers: HTTPFields = [.authorization: "bearer \(key.secret)", .userAgent: "speech-edge-central/1"]
        if let workspace = settings.workspace, let name = HTTPField.Name("X-DashScope-WorkSpace") {
            headers[name] = workspace
        }
        wsConfiguration.additionalHeaders = headers
        let runTask = DashScopeWire.Command.runTask(
            id: taskID, model: settings.model.rawValue,
            parameters: settings.model.parameters(
                source: configuration.sourceLanguage, target: configuration.targetLanguage,
                sampleRate: configuration.codec.sampleRate))
        do {
            try await WebSocketClient.connect(
                url: settings.url, configuration: wsConfiguration, tlsConfiguration: settings.tlsConfiguration, logger: logger
            ) { inbound, outbound, _ in
                try await outbound.write(.text(String(decoding: try JSONEncoder().encode(runTask), as: UTF8.self)))
                try await body(DashScopeTaskChannel(
                    taskID: taskID, codec: configuration.codec, inbound: inbound, outbound: outbound, logger: logger))
            }
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            throw await RefusedUpgrade.classify(
                url: settings.url, authorization: "bearer \(key.secret)", provider: displayName, clientErrorsAreFinal: false)
        }
    }
}
