import Foundation

/// The chat proxy's reservations and their settlement. `ChatQuotaPolicy.reserve` decides; the
/// store counts usage and writes the reservation in the same transaction (with the license's
/// row locked on PostgreSQL), so parallel requests on any instance cannot overrun a limit.
public protocol ChatUsageStore: Sendable {
    /// Counts the license's chat usage, asks the policy, and on admission holds the tokens it
    /// granted until `settleChatRequest` or `releaseChatRequest`. nil: no such license.
    func reserveChatRequest(_ request: ChatReservationRequest, now: Date) async throws -> ChatReservationOutcome?
    /// Replaces the reservation by what was used and writes the ledger (one `chat_request`, one
    /// `chat_input_tokens` and one `chat_output_tokens` row, on the reservation's quota day).
    /// Only the first settlement counts: a repeat changes nothing and answers false.
    @discardableResult
    func settleChatRequest(id: String, usage: ChatTokenUsage, now: Date) async throws -> Bool
    /// Gives an unsettled reservation back, request and tokens (the upstream never answered).
    func releaseChatRequest(id: String, now: Date) async throws
    /// The license's chat usage now, in its quota's time zone.
    func chatUsage(licenseID: String, quota: ChatQuota, now: Date) async throws -> ChatUsageCounts
}
