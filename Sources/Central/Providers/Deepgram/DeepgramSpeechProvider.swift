import Logging

/// Deepgram live transcription: the engine with Deepgram's `/v1/listen` wire.
public typealias DeepgramSpeechProvider = EngineSpeechProvider<DeepgramListenWire>

extension EngineSpeechProvider where Wire == DeepgramListenWire {
    public static var name: String { DeepgramListenWire.name }

    public init(settings: DeepgramSettings, keys: any ProviderKeySource, logger: Logger) {
        self.init(wire: DeepgramListenWire(settings: settings), keys: keys, logger: logger)
    }
}
