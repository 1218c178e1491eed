import Logging
import Protocol

/// Everything provider-specific about a speech provider: how to open a task with a key, write
/// audio, read events and finish. The engine (`ProviderSessionEngine`) does the rest: key
/// choice and failover, replay of unconfirmed audio, the bounded inbox, deadlines, rotation and
/// usage. `EngineSpeechProvider` makes a wire a `SpeechProvider`.
public protocol ProviderWire: Sendable {
    /// The provider as sessions and the catalog name it; `info.name` keys the registry, plans,
    /// licenses and the key vault.
    var info: ProviderInfo { get }
    /// How central's log names the provider ("DashScope").
    var displayName: String { get }
    /// The language pairs offered.
    var languages: [LanguageCatalog.SourceLanguage] { get }
    var timing: ProviderTiming { get }
    /// Refuses, before any key is used, a session the provider cannot serve (a sample rate its
    /// model does not take, say). The default accepts every session.
    func check(_ configuration: ProviderSessionConfiguration) throws(ProviderError)
    /// Connects with `key`, sends the task's start request and runs `body` with the open task;
    /// the connection closes when `body` returns. What the provider refuses (a key rejected at
    /// connect, throttling) is thrown as a `ProviderFailure`; any other error means the provider
    /// could not be reached. Errors `body` throws are rethrown as they are.
    func withTask(
        key: ProviderKeyLease, configuration: ProviderSessionConfiguration, logger: Logger,
        _ body: @escaping @Sendable (any ProviderTaskChannel) async throws -> Void
    ) async throws
}

extension ProviderWire {
    public var name: String { info.name }

    public func check(_ configuration: ProviderSessionConfiguration) throws(ProviderError) {}
}
