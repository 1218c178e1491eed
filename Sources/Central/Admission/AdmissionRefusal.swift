import Foundation
import Hummingbird
import Protocol

/// How each admission refusal is answered over HTTP: status, sentence, and when to retry.
enum AdmissionRefusal {
    static func error(for code: ErrorCode, now: Date, leaseTTL: TimeInterval = 30) -> APIError {
        switch code {
        case .licenseNotFound:
            APIError(.unauthorized, code, "No license matches this key.")
        case .licenseRevoked:
            APIError(.forbidden, code, "This license has been revoked. Contact your vendor.")
        case .licenseSuspended:
            APIError(.forbidden, code, "This license is suspended. Contact your vendor.")
        case .licenseNotStarted:
            APIError(.forbidden, code, "This license is not valid yet.")
        case .licenseExpired:
            APIError(.forbidden, code, "This license has expired. Contact your vendor to extend it.")
        case .ipNotAllowed:
            APIError(.forbidden, code, "This license may not be used from this network address.")
        case .deviceNotAllowed:
            APIError(.forbidden, code, "This license is already bound to its maximum number of devices.")
        case .minutesExhausted:
            APIError(.forbidden, code, "This license has no minutes left. Contact your vendor for more.")
        case .dailyLimitReached:
            APIError(
                .tooManyRequests, code, "Today's usage limit for this license is reached. It resets at midnight UTC.",
                retryAfterSeconds: secondsUntilNextUTCDay(now))
        case .sessionsExhausted:
            APIError(.forbidden, code, "This license has no sessions left. Contact your vendor for more.")
        case .concurrencyLimit:
            APIError(
                .tooManyRequests, code, "Another device is already streaming with this license.",
                retryAfterSeconds: max(1, Int(leaseTTL.rounded(.up))))
        default:
            APIError(.forbidden, code, "Admission refused.")
        }
    }

    static func secondsUntilNextUTCDay(_ now: Date) -> Int {
        max(1, Int(UTCDay(containing: now).next.start.timeIntervalSince(now).rounded(.up)))
    }
}
