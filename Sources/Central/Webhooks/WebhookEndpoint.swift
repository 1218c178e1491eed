import Foundation

/// A receiver registered by an admin. The secret signs every delivery; it is shown once, when
/// the endpoint is created, and never returned again. `storedSecret` is the secret as the
/// database keeps it.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var url: String
    public var storedSecret: String
    public var events: Set<WebhookEventType>
    public var enabled: Bool
    public var description: String
    public var createdAt: Date

    public init(
        id: String, url: String, storedSecret: String, events: Set<WebhookEventType>, enabled: Bool, description: String,
        createdAt: Date
    ) {
        self.id = id
        self.url = url
        self.storedSecret = storedSecret
        self.events = events
        self.enabled = enabled
        self.description = description
        self.createdAt = createdAt
    }

    func subscribes(to type: WebhookEventType) -> Bool { enabled && events.contains(type) }

    static func newID() -> String { RandomIdentifier.make(prefix: "wh_", words: 1) }
    static func newSecret() -> String { RandomIdentifier.make(prefix: "whsec_", words: 4) }

    /// `http` or `https`, a host, no user info, at most 2,000 characters: the dispatcher sends
    /// to nothing else.
    static func validURL(_ text: String) -> Bool {
        guard text.count <= 2000, let url = URLComponents(string: text),
              let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil
        else { return false }
        return isVisibleASCII(text)
    }

    /// A secret someone chose: at least 16 visible ASCII characters (it goes into an HMAC key
    /// on both sides, so nothing a receiver could encode differently), never one that looks
    /// like a sealed secret.
    static func validSecret(_ text: String) -> Bool {
        text.count >= 16 && isVisibleASCII(text) && !WebhookSecretSeal.isSealed(text)
    }

    private static func isVisibleASCII(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }
}

/// One event on its way to one endpoint, and what happened on each try.
public struct WebhookDelivery: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case pending, delivered, failed
    }

    public var id: String
    public var eventID: String
    public var eventType: WebhookEventType
    public var endpointID: String
    public var status: Status
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date?
    public var lastAttemptAt: Date?
    /// The receiver's HTTP status on the last try, if it answered.
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, status, attempts
        case eventID = "event_id"
        case eventType = "event_type"
        case endpointID = "endpoint_id"
        case createdAt = "created_at"
        case nextAttemptAt = "next_attempt_at"
        case lastAttemptAt = "last_attempt_at"
        case lastStatus = "last_status"
        case lastError = "last_error"
        case deliveredAt = "delivered_at"
    }

    static func newID() -> String { RandomIdentifier.make(prefix: "whd_", words: 2) }
}

/// A delivery due now, with what it needs to be sent.
public struct DueWebhookDelivery: Sendable, Equatable {
    public var delivery: WebhookDelivery
    public var url: String
    public var storedSecret: String
    public var payload: String
}
