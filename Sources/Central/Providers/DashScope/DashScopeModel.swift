import Protocol

/// The DashScope realtime models central can relay to, and the languages each accepts.
public enum DashScopeModel: String, Sendable, CaseIterable {
    /// Live transcription plus one translation target.
    case gummyRealtime = "gummy-realtime-v1"
    /// Recognition only.
    case paraformerRealtime = "paraformer-realtime-v2"
    /// Recognition only, 16 kHz.
    case funASRRealtime = "fun-asr-realtime"

    public var translates: Bool { self == .gummyRealtime }

    /// Gummy: zh → en/ja/ko, en → zh/ja/ko, the others → zh/en (one target per task).
    /// Paraformer and Fun-ASR: transcription only.
    public var languages: [LanguageCatalog.SourceLanguage] {
        switch self {
        case .gummyRealtime:
            [
                .init(source: "zh", targets: ["en", "ja", "ko"], transcription: true),
                .init(source: "en", targets: ["zh", "ja", "ko"], transcription: true),
            ] + ["ja", "ko", "yue", "de", "fr", "ru", "it", "es"].map {
                .init(source: $0, targets: ["zh", "en"], transcription: true)
            }
        case .paraformerRealtime:
            ["zh", "en", "ja", "yue", "ko", "de", "fr", "ru"].map { .init(source: $0, targets: [], transcription: true) }
        case .funASRRealtime:
            ["zh", "en", "ja"].map { .init(source: $0, targets: [], transcription: true) }
        }
    }

    /// `run-task` parameters for Ogg Opus at the edge's capture rate.
    func parameters(source: String, target: String?, sampleRate: Int) -> DashScopeWire.TaskParameters {
        switch self {
        case .gummyRealtime:
            DashScopeWire.TaskParameters(
                sampleRate: sampleRate, format: "opus", sourceLanguage: source, transcriptionEnabled: true,
                translationEnabled: target != nil, translationTargetLanguages: target.map { [$0] } ?? [])
        case .paraformerRealtime, .funASRRealtime:
            DashScopeWire.TaskParameters(sampleRate: sampleRate, format: "opus", languageHints: [source])
        }
    }
}

/// How a DashScope failure is handled: which are a key's fault (try the next key), which are
/// worth a retry, which end the session.
enum DashScopeFailure: Error, Equatable {
    case authFailed(String)
    case rateLimited(String)
    /// Network trouble, a dropped connection, a provider-side error or timeout: retry.
    case transient(ErrorCode, String)
    /// The provider will not do this task (bad parameters, unsupported audio): stop.
    case fatal(ErrorCode, String)

    /// Maps a `task-failed` event's `error_code` (DashScope's own names) to our handling.
    static func fromTaskFailed(code: String?, message: String?) -> DashScopeFailure {
        let code = code ?? ""
        let text = "\(code): \(message ?? "task failed")"
        switch code {
        case "InvalidApiKey", "Unauthorized", "AccessDenied", "Arrearage", "AccessDenied.Unpurchased":
            return .authFailed(text)
        case _ where code.hasPrefix("Throttling"), "RateLimitExceeded", "TooManyRequests":
            return .rateLimited(text)
        case "InternalError", "ServiceUnavailable", "RequestTimeOut", "InternalError.Timeout", "InternalError.Algo", "CLIENT_ERROR":
            return .transient(.providerUnavailable, text)
        case "InvalidParameter" where (message ?? "").localizedCaseInsensitiveContains("language"):
            return .fatal(.unsupportedLanguagePair, text)
        default:
            return .fatal(.providerFailed, text)
        }
    }

    /// The code the edge sees when this failure ends the session.
    var code: ErrorCode {
        switch self {
        case .authFailed: .providerAuthFailed
        case .rateLimited: .providerRateLimited
        case .transient(let code, _), .fatal(let code, _): code
        }
    }

    var message: String {
        switch self {
        case .authFailed(let text), .rateLimited(let text), .transient(_, let text), .fatal(_, let text): text
        }
    }

    var keyOutcome: ProviderKeyOutcome {
        switch self {
        case .authFailed(let text): .authFailed(text)
        case .rateLimited(let text): .rateLimited(text)
        case .transient(_, let text), .fatal(_, let text): .failed(text)
        }
    }
}
