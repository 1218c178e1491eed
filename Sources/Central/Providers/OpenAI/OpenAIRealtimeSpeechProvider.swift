import Logging

/// OpenAI realtime transcription: the engine with OpenAI's Realtime wire.
public typealias OpenAIRealtimeSpeechProvider = EngineSpeechProvider<OpenAIRealtimeWire>

extension EngineSpeechProvider where Wire == OpenAIRealtimeWire {
    public static var name: String { OpenAIRealtimeWire.name }

    public init(settings: OpenAIRealtimeSettings, keys: any ProviderKeySource, logger: Logger) {
        self.init(wire: OpenAIRealtimeWire(settings: settings), keys: keys, logger: logger)
    }
}
