import Foundation

/// Outstanding stream tickets, by the hash of their token (`StreamTicketBook`).
public protocol StreamTicketStore: Sendable {
    /// Keeps the ticket until it is redeemed or expires; drops tickets that expired before `now`.
    func issueStreamTicket(_ ticket: StreamTicket, tokenHash: String, now: Date) async throws
    /// Removes and returns the ticket if it exists and has not expired: one redemption, however
    /// many instances race for it.
    func redeemStreamTicket(tokenHash: String, now: Date) async throws -> StreamTicket?
}
