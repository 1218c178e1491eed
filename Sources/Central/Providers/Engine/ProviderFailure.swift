import Protocol

/// How the engine handles a provider failure: which are a key's fault (try the next key), which
/// are worth a retry, which end the session. An adapter maps its provider's errors to these.
public enum ProviderFailure: Error, Equatable, Sendable {
    case authFailed(String)
    case rateLimited(String)
    /// Network trouble, a dropped connection, a provider-side error or timeout: retry.
    case transient(ErrorCode, String)
    /// The provider will not do this task (bad parameters, unsupported audio): stop.
    case fatal(ErrorCode, String)

    /// The code the edge sees when this failure ends the session.
    public var code: ErrorCode {
        switch self {
        case .authFailed: .providerAuthFailed
        case .rateLimited: .providerRateLimited
        case .transient(let code, _), .fatal(let code, _): code
        }
    }

    /// The provider's (or central's) account, for the log only: never sent to an edge.
    public var message: String {
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
