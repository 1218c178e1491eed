import Protocol
import Synchronization

/// Accepts audio and returns nothing: for load tests that measure central alone
/// (`SPEECH_PROVIDER=null`). Never the default; the started message names it.
public struct NullSpeechProvider: SpeechProvider {
    public static let name = "null"

    public init() {}

    public var info: ProviderInfo { ProviderInfo(name: Self.name, model: nil, demo: true) }

    public var catalog: LanguageCatalog { LanguageCatalog(provider: info, languages: DashScopeModel.gummyRealtime.languages) }

    public func supports(source: String, target: String?) -> Bool { true }

    public func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession {
        NullProviderSession()
    }
}

final class NullProviderSession: SpeechProviderSession {
    let events: AsyncStream<ProviderEvent>
    private let sink: AsyncStream<ProviderEvent>.Continuation
    private let receivedUs = Mutex<Int64>(0)

    init() {
        (events, sink) = AsyncStream<ProviderEvent>.makeStream()
    }

    func send(_ frame: AudioFrame) -> Bool {
        receivedUs.withLock { $0 += Int64(frame.durationMicroseconds) }
        return true
    }

    func finish() async -> ProviderUsage {
        sink.finish()
        return ProviderUsage(audioMs: receivedUs.withLock { $0 } / 1000)
    }

    func cancel() {
        sink.finish()
    }
}
