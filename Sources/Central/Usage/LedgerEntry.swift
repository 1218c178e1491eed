import Foundation

/// One append-only ledger row. Every change to a license's used time or limit writes one.
public struct LedgerEntry: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// Metered usage added.
        case debit
        /// Limit raised (top-up) or lowered (adjustment).
        case credit
        /// A session started: counts against the session quota, no time.
        case sessionStart = "session_start"
        /// A chat request settled (`quantity` 1), and its input and output tokens (`quantity`).
        case chatRequest = "chat_request"
        case chatInputTokens = "chat_input_tokens"
        case chatOutputTokens = "chat_output_tokens"

        /// The kinds whose `quantity` counts requests or tokens, not time.
        static let chat: [Kind] = [.chatRequest, .chatInputTokens, .chatOutputTokens]
    }

    public var sequence: Int64
    public var licenseID: String
    public var sessionID: String?
    public var kind: Kind
    /// Milliseconds: usage added for a debit, limit change for a credit.
    public var amountMs: Int64
    /// Remaining time (limit − used) before and after.
    public var balanceBeforeMs: Int64
    public var balanceAfterMs: Int64
    public var reason: String
    public var idempotencyKey: String
    public var createdAt: Date
    /// UTC for speech; the license's chat time zone for chat rows (their quota day).
    public var day: String
    /// Requests or tokens for the chat kinds; nil for the others (their amount is `amountMs`).
    public var quantity: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case sequence
        case licenseID = "license_id"
        case sessionID = "session_id"
        case kind
        case amountMs = "amount_ms"
        case balanceBeforeMs = "balance_before_ms"
        case balanceAfterMs = "balance_after_ms"
        case reason
        case idempotencyKey = "idempotency_key"
        case createdAt = "created_at"
        case day
        case quantity
    }
}
