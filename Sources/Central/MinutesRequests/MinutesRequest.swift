import Foundation
import Protocol

/// A customer's request, sent from the edge page, for more minutes on their license.
public struct MinutesRequest: Codable, Sendable, Equatable {
    public typealias Status = MinutesRequestNotice.Status

    public var id: String
    public var licenseID: String
    public var minutes: Double
    public var note: String
    public var status: Status
    public var createdAt: Date
    public var decidedAt: Date?
    public var decidedBy: String?
    /// What an approval added (the operator may grant other than what was asked).
    public var grantedMinutes: Double?
    /// The operator's words to the customer, shown on the edge page.
    public var answer: String?

    enum CodingKeys: String, CodingKey {
        case id, minutes, note, status, answer
        case licenseID = "license_id"
        case createdAt = "created_at"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
        case grantedMinutes = "granted_minutes"
    }

    public init(
        id: String, licenseID: String, minutes: Double, note: String, status: Status, createdAt: Date,
        decidedAt: Date? = nil, decidedBy: String? = nil, grantedMinutes: Double? = nil, answer: String? = nil
    ) {
        self.id = id
        self.licenseID = licenseID
        self.minutes = minutes
        self.note = note
        self.status = status
        self.createdAt = createdAt
        self.decidedAt = decidedAt
        self.decidedBy = decidedBy
        self.grantedMinutes = grantedMinutes
        self.answer = answer
    }

    static func newID() -> String { RandomIdentifier.make(prefix: "mreq_", words: 2) }

    /// What the customer's edge is shown.
    var notice: MinutesRequestNotice {
        MinutesRequestNotice(
            id: id, minutes: minutes, note: note, status: status, createdAt: createdAt, decidedAt: decidedAt,
            grantedMinutes: grantedMinutes, answer: answer)
    }

    /// The request as decided: what the store writes back.
    mutating func apply(_ decision: MinutesRequestDecision, by operatorName: String, at now: Date) {
        decidedAt = now
        decidedBy = operatorName
        switch decision {
        case .approve(let minutes, let answer):
            status = .approved
            grantedMinutes = minutes
            self.answer = answer
        case .decline(let answer):
            status = .declined
            self.answer = answer
        }
    }
}

/// The UTC day a request counts against, and how long until the next one starts.
struct MinutesRequestWindow {
    let start: Date
    let secondsLeft: Int

    init(now: Date) {
        let day = UTCDay(containing: now)
        start = day.start
        secondsLeft = max(1, Int(start.addingTimeInterval(86_400).timeIntervalSince(now).rounded(.up)))
    }
}

/// How often a license may ask: one open request at a time, and a few per UTC day, so a
/// script on the customer's side cannot flood the operator's queue or the webhooks.
public struct MinutesRequestLimits: Sendable, Equatable {
    public var perDay: Int
    public var maxMinutes: Double
    public var noteLength: Int

    public init(
        perDay: Int = 5, maxMinutes: Double = MinutesRequestNotice.minutesRange.upperBound,
        noteLength: Int = MinutesRequestNotice.noteLength
    ) {
        self.perDay = perDay
        self.maxMinutes = maxMinutes
        self.noteLength = noteLength
    }
}

/// Why the store refused a new request.
public enum MinutesRequestRefusal: Error, Equatable, Sendable {
    /// The license already has an open request; it is returned so the page can show it.
    case pending(MinutesRequest)
    case dailyLimit(retryAfterSeconds: Int)
}

/// What an operator decided about a pending request.
public enum MinutesRequestDecision: Sendable, Equatable {
    case approve(minutes: Double, answer: String?)
    case decline(answer: String?)
}
