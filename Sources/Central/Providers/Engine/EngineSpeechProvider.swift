import Logging
import Protocol

/// A speech provider run by the engine: an adapter supplies only its `ProviderWire`, and keys
/// come from `keys` (the vault in production) under the wire's name.
public struct EngineSpeechProvider<Wire: ProviderWire>: SpeechProvider {
    public let wire: Wire
    let keys: any ProviderKeySource
    let logger: Logger

    public init(wire: Wire, keys: any ProviderKeySource, logger: Logger) {
        self.wire = wire
        self.keys = keys
        self.logger = logger
    }

    public var info: ProviderInfo { wire.info }

    public var catalog: LanguageCatalog { LanguageCatalog(provider: wire.info, languages: wire.languages) }

    public func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
        try await ProviderSessionEngine.open(wire: wire, configuration: configuration, keys: keys, logger: logger)
    }
}
