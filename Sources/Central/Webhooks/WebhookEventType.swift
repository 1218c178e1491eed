import Foundation

/// The events a webhook endpoint can subscribe to. The raw values are the stable names sent as
/// `type` and in the `Webhook-Event` header (docs/api.md, "Webhooks").
public enum WebhookEventType: String, Codable, Sendable, CaseIterable {
    case usage80 = "usage.threshold_80"
    case usage95 = "usage.threshold_95"
    case usageExhausted = "usage.exhausted"
    case dailyCapReached = "usage.daily_cap_reached"
    case expiringSoon = "license.expiring_soon"
    case expired = "license.expired"
    case suspended = "license.suspended"
    case revoked = "license.revoked"
    case minutesRequested = "minutes_request.created"

    /// How a set is stored: names, sorted, comma-separated.
    static func columnText(_ events: Set<WebhookEventType>) -> String {
        events.map(\.rawValue).sorted().joined(separator: ",")
    }

    static func set(columnText: String) throws -> Set<WebhookEventType> {
        try Set(columnText.split(separator: ",").map { name in
            guard let type = WebhookEventType(rawValue: String(name)) else { throw StoreError.corruptRow("webhook event type") }
            return type
        })
    }
}

/// One event, once: its id is derived from what happened (the license, the threshold and the
/// limit it crossed, the expiry it reached), so every instance that notices it enqueues the
/// same id and the store keeps one. Receivers use the id to drop a redelivery.
public struct WebhookEvent: Sendable, Equatable {
    public var id: String
    public var type: WebhookEventType
    public var licenseID: String?
    public var createdAt: Date
    /// The JSON body sent, byte for byte the same on every attempt.
    public var payload: String

    public init(id: String, type: WebhookEventType, licenseID: String?, createdAt: Date, payload: String) {
        self.id = id
        self.type = type
        self.licenseID = licenseID
        self.createdAt = createdAt
        self.payload = payload
    }
}
