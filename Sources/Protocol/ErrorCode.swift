/// A stable, machine-readable error code shared by central, the edge and the page.
///
/// Codes are open-ended strings on the wire so that an older peer can still decode a newer
/// code; the constants below are the ones this version knows and documents in docs/api.md.
public struct ErrorCode: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}

extension ErrorCode {
    // Admission refusals, in the order admission checks them.
    public static let licenseNotFound = ErrorCode("license_not_found")
    public static let licenseRevoked = ErrorCode("license_revoked")
    public static let licenseSuspended = ErrorCode("license_suspended")
    public static let licenseNotStarted = ErrorCode("license_not_started")
    public static let licenseExpired = ErrorCode("license_expired")
    public static let ipNotAllowed = ErrorCode("ip_not_allowed")
    public static let deviceNotAllowed = ErrorCode("device_not_allowed")
    public static let minutesExhausted = ErrorCode("minutes_exhausted")
    public static let dailyLimitReached = ErrorCode("daily_limit_reached")
    public static let sessionsExhausted = ErrorCode("sessions_exhausted")
    public static let concurrencyLimit = ErrorCode("concurrency_limit")

    /// Every admission refusal, in evaluation order.
    public static let admissionRefusals: [ErrorCode] = [
        .licenseNotFound, .licenseRevoked, .licenseSuspended, .licenseNotStarted, .licenseExpired,
        .ipNotAllowed, .deviceNotAllowed, .minutesExhausted, .dailyLimitReached, .sessionsExhausted,
        .concurrencyLimit,
    ]

    // Authentication.
    public static let licenseKeyMissing = ErrorCode("license_key_missing")
    public static let licenseKeyMalformed = ErrorCode("license_key_malformed")
    public static let adminUnauthorized = ErrorCode("admin_unauthorized")
    public static let rateLimited = ErrorCode("rate_limited")

    // Request validation.
    public static let malformedJSON = ErrorCode("malformed_json")
    public static let unknownField = ErrorCode("unknown_field")
    public static let missingField = ErrorCode("missing_field")
    public static let invalidType = ErrorCode("invalid_type")
    public static let stringTooLong = ErrorCode("string_too_long")
    public static let negativeNumber = ErrorCode("negative_number")
    public static let invalidValue = ErrorCode("invalid_value")
    public static let invalidQuery = ErrorCode("invalid_query")
    public static let payloadTooLarge = ErrorCode("payload_too_large")

    // Resources and state.
    public static let notFound = ErrorCode("not_found")
    public static let leaseNotFound = ErrorCode("lease_not_found")
    public static let idempotencyConflict = ErrorCode("idempotency_conflict")
    public static let invalidTransition = ErrorCode("invalid_transition")
    public static let internalError = ErrorCode("internal_error")
    public static let unavailable = ErrorCode("unavailable")

    // The chat proxy (`/v1/chat/completions`, docs/api.md), answered in OpenAI's error shape.
    public static let chatNotEnabled = ErrorCode("chat_not_enabled")
    public static let modelNotAllowed = ErrorCode("model_not_allowed")
    public static let chatRateLimited = ErrorCode("chat_rate_limited")
    public static let chatDailyRequestsExhausted = ErrorCode("chat_daily_requests_exhausted")
    public static let chatDailyTokensExhausted = ErrorCode("chat_daily_tokens_exhausted")
    public static let chatTokensExhausted = ErrorCode("chat_tokens_exhausted")
    public static let upstreamUnavailable = ErrorCode("upstream_unavailable")
    public static let upstreamTimeout = ErrorCode("upstream_timeout")

    // The operator's console and its API (docs/api.md, "Console").
    public static let roleForbidden = ErrorCode("role_forbidden")
    public static let csrfRejected = ErrorCode("csrf_rejected")
    /// A path not in its one canonical spelling (`//`, `.`/`..` segments, a trailing `/`; on the
    /// edge also percent-encoding): a router that ignores empty segments could read it two ways.
    public static let invalidPath = ErrorCode("invalid_path")
    /// A state-changing request whose Content-Type is not `application/json`.
    public static let unsupportedMediaType = ErrorCode("unsupported_media_type")
    public static let consoleSessionExpired = ErrorCode("console_session_expired")
    public static let alreadyExists = ErrorCode("already_exists")

    // Requests for more minutes, from the edge page.
    public static let minutesRequestPending = ErrorCode("minutes_request_pending")
    public static let minutesRequestLimit = ErrorCode("minutes_request_limit")
}
