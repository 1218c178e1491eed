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

    /// The provider's (or central's) account, for the log and the key's last error only: never
    /// sent to an edge. It comes from the provider's reply, so it is made safe for a log line
    /// here, once for every adapter: control characters (a line break would forge a log line)
    /// become U+FFFD, and it is cut at 500 characters.
    public var message: String {
        let text = switch self {
        case .authFailed(let text), .rateLimited(let text), .transient(_, let text), .fatal(_, let text): text
        }
        var safe = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(2_000) {
            safe.append(TextKind.line.allows(scalar) ? scalar : "\u{FFFD}")
        }
        return String(String(safe).prefix(Self.maximumMessageLength))
    }

    static let maximumMessageLength = 500

    var keyOutcome: ProviderKeyOutcome {
        switch self {
        case .authFailed: .authFailed(message)
        case .rateLimited: .rateLimited(message)
        case .transient, .fatal: .failed(message)
        }
    }
}
