import Foundation

/// A request for more minutes as the customer's edge sees it (`/v1/license/minutes-requests`):
/// what was asked and the vendor's answer, without who answered.
public struct MinutesRequestNotice: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case pending, approved, declined
    }

    public var id: String
    public var minutes: Double
    public var note: String
    public var status: Status
    public var createdAt: Date
    public var decidedAt: Date?
    /// What an approval added (the vendor may grant other than what was asked).
    public var grantedMinutes: Double?
    /// The vendor's words to the customer.
    public var answer: String?

    public init(
        id: String, minutes: Double, note: String, status: Status, createdAt: Date, decidedAt: Date?, grantedMinutes: Double?,
        answer: String?
    ) {
        self.id = id
        self.minutes = minutes
        self.note = note
        self.status = status
        self.createdAt = createdAt
        self.decidedAt = decidedAt
        self.grantedMinutes = grantedMinutes
        self.answer = answer
    }

    enum CodingKeys: String, CodingKey {
        case id, minutes, note, status, answer
        case createdAt = "created_at"
        case decidedAt = "decided_at"
        case grantedMinutes = "granted_minutes"
    }

    /// The bounds both sides check: whole minutes from 1, a note of at most 500 characters.
    public static let minutesRange: ClosedRange<Double> = 1...100_000
    public static let noteLength = 500
}

/// `{"request": …}`: the latest request (null when there is none), or the one just made.
public struct MinutesRequestReply: Codable, Sendable, Equatable {
    public var request: MinutesRequestNotice?

    public init(request: MinutesRequestNotice?) {
        self.request = request
    }
}
