import Foundation
import Protocol

/// What a provider session is asked to do.
public struct ProviderSessionConfiguration: Sendable, Equatable {
    public var sessionID: String
    public var sourceLanguage: String
    public var targetLanguage: String?
    public var codec: CodecParameters

    public init(sessionID: String, sourceLanguage: String, targetLanguage: String?, codec: CodecParameters) {
        self.sessionID = sessionID
        self.sourceLanguage = sourceLanguage
        self.targetLanguage = targetLanguage
        self.codec = codec
    }
}

/// What comes back from a provider.
public enum ProviderEvent: Sendable, Equatable {
    case transcript(ResultMessage)
    case translation(ResultMessage)
    /// The provider failed; the session stops with this code.
    case failed(ErrorCode, String)
}

/// The provider's own account of what it processed, kept beside our metering.
public struct ProviderUsage: Sendable, Equatable {
    /// Audio handed to the provider (a replay after a failover counts again).
    public var audioMs: Int64
    /// What the provider says it billed, in seconds, when it reports usage.
    public var reportedSeconds: Int?
    /// Tokens the LLM translation of this session's sentences used, when it had any.
    public var translationTokens: Int?
    /// The edge's own count of what it sent (from its `stop`), recorded with the provider's
    /// figures for reconciliation; nil when the edge did not say.
    public var edgeSentMs: Int64?
    /// What a token-billed provider says it billed, in tokens.
    public var reportedTokens: Int?

    public init(
        audioMs: Int64, reportedSeconds: Int? = nil, reportedTokens: Int? = nil, translationTokens: Int? = nil, edgeSentMs: Int64? = nil
    ) {
        self.audioMs = audioMs
        self.reportedSeconds = reportedSeconds
        self.reportedTokens = reportedTokens
        self.translationTokens = translationTokens
        self.edgeSentMs = edgeSentMs
    }
}

/// The seam to a speech service (DashScope, the demo, a test fake).
public protocol SpeechProvider: Sendable {
    var info: ProviderInfo { get }
    /// The language pairs offered, for the page (`GET /v1/providers`).
    var catalog: LanguageCatalog { get }
    /// Whether a session for this pair can open; `nil` target means transcription only.
    func supports(source: String, target: String?) -> Bool
    func openSession(_ configuration: ProviderSessionConfiguration) async throws -> any SpeechProviderSession
}

extension SpeechProvider {
    public func supports(source: String, target: String?) -> Bool {
        catalog.supports(source: source, target: target)
    }
}

/// One live provider task.
public protocol SpeechProviderSession: Sendable {
    /// Results, in order; finishes after `finish()` or a failure.
    var events: AsyncStream<ProviderEvent> { get }
    /// Hands one frame to the provider without waiting. Returns false when the provider's
    /// bounded queue is full: the frame is then not accepted (and not billed).
    func send(_ frame: AudioFrame) -> Bool
    /// No more audio: flush, wait for the last results, report usage.
    func finish() async -> ProviderUsage
    /// Stop at once, dropping whatever is queued.
    func cancel()
}

/// A provider that could not open a session, with our stable code.
public struct ProviderError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
