import Protocol

/// The sentences an edge is told when its license or an operator ends a stream.
enum StreamStopSentence {
    static func exhausted(_ code: ErrorCode) -> String {
        code == .dailyLimitReached
            ? "Today's allowance on this license is used up; streaming can continue tomorrow (UTC)."
            : "No time is left on this license."
    }

    static func licenseState(_ code: ErrorCode) -> String {
        switch code {
        case .licenseRevoked: "The license was revoked."
        case .licenseSuspended: "The license was suspended."
        case .licenseNotStarted: "The license is not valid yet."
        case .licenseExpired: "The license expired."
        default: "The license cannot stream now."
        }
    }

    /// A stop asked for through the store (an operator, on whichever instance).
    static func requested(_ code: ErrorCode) -> String {
        code == .stoppedByAdmin ? "Stopped by the vendor's operator." : "The session was stopped."
    }
}
