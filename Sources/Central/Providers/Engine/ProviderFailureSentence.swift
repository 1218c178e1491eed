import Protocol

/// What an edge is told when the speech provider ends its session: one plain sentence per code,
/// written by us. The provider's own text (its error code and message, hosts, request ids) goes
/// to central's log only: it is not ours to show a customer, and a compromised or misbehaving
/// provider must not be able to put words on the customer's page.
enum ProviderFailureSentence {
    static func sentence(for code: ErrorCode) -> String {
        switch code {
        case .providerUnavailable: "The speech service cannot be reached right now. Try again in a moment."
        case .providerAuthFailed: "The speech service refused the vendor's credentials. Please contact the vendor."
        case .providerRateLimited: "The speech service is busy right now. Try again in a moment."
        case .providerTimeout: "The speech service stopped answering in time. Try again in a moment."
        case .providerAtCapacity: "The speech service is fully booked right now. Try again in a moment."
        case .unsupportedLanguagePair: "The speech service cannot handle this language pair."
        default: "The speech service could not process this session. Try again, or contact the vendor if it keeps happening."
        }
    }
}
