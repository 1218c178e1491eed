import Foundation

/// How a settled chat request is written to the ledger, the same in every store: one row per
/// kind, each with its own idempotency key, so a repeated settlement cannot add a second set.
enum ChatLedger {
    static func rows(_ usage: ChatTokenUsage) -> [(LedgerEntry.Kind, Int64)] {
        [(.chatRequest, 1), (.chatInputTokens, usage.inputTokens), (.chatOutputTokens, usage.outputTokens)]
    }

    static func idempotencyKey(_ requestID: String, _ kind: LedgerEntry.Kind) -> String {
        "chat:\(requestID):\(kind.rawValue)"
    }

    /// Says where the figures came from (the upstream's usage or what was delivered).
    static func reason(_ usage: ChatTokenUsage) -> String {
        "chat usage (\(usage.source.rawValue))"
    }
}
