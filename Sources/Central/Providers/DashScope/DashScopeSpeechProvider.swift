import Logging

/// Alibaba Cloud DashScope realtime speech (Gummy translation, Paraformer / Fun-ASR recognition):
/// the engine with DashScope's wire.
public typealias DashScopeSpeechProvider = EngineSpeechProvider<DashScopeInferenceWire>

extension EngineSpeechProvider where Wire == DashScopeInferenceWire {
    public static var name: String { DashScopeInferenceWire.name }

    public init(settings: DashScopeSettings, keys: any ProviderKeySource, logger: Logger) {
        self.init(wire: DashScopeInferenceWire(settings: settings), keys: keys, logger: logger)
    }
}
