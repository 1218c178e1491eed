import Foundation

/// Issues and redeems stream tokens. The token itself is handed to the edge once and never
/// stored: the store keeps its SHA-256 hash with the ticket, so a reader of the database cannot
/// open streams, and any instance sharing the database can redeem it (once).
struct StreamTicketBook: Sendable {
    let store: any StreamTicketStore
    let lifetime: TimeInterval

    init(store: any StreamTicketStore, lifetime: TimeInterval = 30) {
        self.store = store
        self.lifetime = lifetime
    }

    func issue(_ ticket: StreamTicket, now: Date) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let token = "st_" + (0..<3).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        try await store.issueStreamTicket(ticket, tokenHash: LicenseKey.hash(token), now: now)
        return token
    }

    /// Takes the ticket out of the store: a token works once, on whichever instance.
    func redeem(_ token: String, now: Date) async throws -> StreamTicket? {
        guard token.hasPrefix("st_"), token.utf8.count <= 64 else { return nil }
        return try await store.redeemStreamTicket(tokenHash: LicenseKey.hash(token), now: now)
    }
}
