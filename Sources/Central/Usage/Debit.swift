import Foundation

/// A request to add metered usage to a license. Replaying the same idempotency key changes nothing.
public struct DebitRequest: Sendable, Equatable {
    public var licenseID: String
    public var sessionID: String?
    public var amountMs: Int64
    public var idempotencyKey: String
    public var reason: String
    /// How far past the limit this debit may take usage (for audio already sent to the provider).
    /// Zero: never past the limit.
    public var allowedOverrunMs: Int64

    public init(
        licenseID: String, sessionID: String?, amountMs: Int64, idempotencyKey: String,
        reason: String = "metered_audio", allowedOverrunMs: Int64 = 0
    ) {
        self.licenseID = licenseID
        self.sessionID = sessionID
        self.amountMs = amountMs
        self.idempotencyKey = idempotencyKey
        self.reason = reason
        self.allowedOverrunMs = allowedOverrunMs
    }
}

public struct DebitResult: Sendable, Equatable {
    /// What was asked for.
    public var requestedMs: Int64
    /// What was actually added: less than requested when the limit (plus any allowed overrun) cut it.
    public var appliedMs: Int64
    public var usedMs: Int64
    public var limitMs: Int64
    /// True when this key had been applied before and this call changed nothing.
    public var replayed: Bool

    public var remainingMs: Int64 { max(0, limitMs - usedMs) }
    public var exhausted: Bool { usedMs >= limitMs }
}

public enum DebitError: Error, Equatable {
    case licenseNotFound
    case invalidAmount
    /// The idempotency key was used before for a different license or amount.
    case idempotencyConflict
}
