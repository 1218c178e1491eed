import Foundation
import Synchronization

/// Admission's permission to open one stream: issued by `POST /v1/sessions`, presented once on
/// the WebSocket upgrade, valid for a short time. It stands in for the license key on the socket.
struct StreamTicket: Sendable {
    var sessionID: String
    var licenseID: String
    var leaseID: String
    var deviceFingerprint: String
    var clientIP: String
    /// True when the ticket continues a detached session instead of starting one.
    var resume: Bool
    var expiresAt: Date
}

/// Outstanding tickets, in memory: a restart invalidates them, and the edge simply asks again.
final class StreamTicketBook: Sendable {
    private let tickets = Mutex<[String: StreamTicket]>([:])
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 30) {
        self.lifetime = lifetime
    }

    func issue(_ ticket: StreamTicket) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = "st_" + (0..<3).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        tickets.withLock { book in
            let now = Date()
            book = book.filter { $0.value.expiresAt > now }
            book[token] = ticket
        }
        return token
    }

    /// Takes the ticket out of the book: a token works once.
    func redeem(_ token: String, now: Date) -> StreamTicket? {
        tickets.withLock { book in
            guard let ticket = book.removeValue(forKey: token), ticket.expiresAt > now else { return nil }
            return ticket
        }
    }
}
