import Foundation
import Protocol

/// Builds events with their derived ids and their JSON bodies (docs/api.md, "Webhooks").
enum WebhookEventFactory {
    struct Body: Encodable {
        var id: String
        var type: WebhookEventType
        var createdAt: Date
        var data: LicenseData

        enum CodingKeys: String, CodingKey {
            case id, type, data
            case createdAt = "created_at"
        }
    }

    /// What every event says about its license, plus the request for `minutes_request.created`.
    struct LicenseData: Encodable {
        var licenseID: String
        var customerName: String
        var plan: String
        var status: LicenseStatus
        var minutesLimit: Double
        var minutesUsed: Double
        var expiresAt: Date?
        var minutesRequest: MinutesRequest?

        enum CodingKeys: String, CodingKey {
            case plan, status
            case licenseID = "license_id"
            case customerName = "customer_name"
            case minutesLimit = "minutes_limit"
            case minutesUsed = "minutes_used"
            case expiresAt = "expires_at"
            case minutesRequest = "minutes_request"
        }
    }

    /// `discriminator` names the occurrence: the limit a threshold was crossed at, the expiry
    /// reached, the request made. The same occurrence gives the same id on every instance.
    static func event(
        _ type: WebhookEventType, license: License, discriminator: String, now: Date, minutesRequest: MinutesRequest? = nil
    ) -> WebhookEvent {
        let id = "evt_" + LicenseKey.hash("\(type.rawValue)|\(license.id)|\(discriminator)").prefix(32)
        let body = Body(
            id: id, type: type, createdAt: now,
            data: LicenseData(
                licenseID: license.id, customerName: license.customerName, plan: license.plan, status: license.status,
                minutesLimit: Double(license.limitMs) / 60_000, minutesUsed: Double(license.usedMs) / 60_000,
                expiresAt: license.expiresAt, minutesRequest: minutesRequest))
        let payload = (try? WireCoding.encoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return WebhookEvent(id: id, type: type, licenseID: license.id, createdAt: now, payload: payload)
    }
}
