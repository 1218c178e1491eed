import Foundation
import Protocol

/// What an operator asks for when creating a license. Absent fields come from the plan.
public struct LicenseDraft: Sendable, Equatable {
    public var plan: String = "trial-basic"
    public var customerName: String
    public var customerEmail: String?
    public var days: Int?
    public var minutes: Double?
    public var sessions: Int?
    public var concurrent: Int?
    public var devices: Int?
    public var dailyMinutes: Double?
    public var ipAllowlist: IPAllowlist?
    public var notes: String?
    public var startsAt: Date?
    /// Count the validity days from the first admission instead of from creation.
    public var expiryFromFirstUse: Bool?
    /// The speech provider; absent: the plan's.
    public var provider: String?
    /// The chat allowance; absent: the plan's.
    public var chat: ChatQuota?

    public init(plan: String = "trial-basic", customerName: String) {
        self.plan = plan
        self.customerName = customerName
    }

    static let fields: Set<String> = [
        "plan", "customer_name", "customer_email", "days", "minutes", "sessions", "concurrent", "devices",
        "daily_minutes", "ip_allowlist", "notes", "starts_at", "expiry_from_first_use", "provider", "chat",
    ]

    public init(json reader: JSONObjectReader) throws(RequestValidationError) {
        customerName = try reader.string("customer_name", maxLength: LicenseLimits.nameLength, required: true) ?? ""
        plan = try reader.string("plan", maxLength: LicenseLimits.planLength) ?? "trial-basic"
        customerEmail = try LicenseLimits.email(reader)
        days = try reader.int("days", max: LicenseLimits.maxDays)
        minutes = try reader.number("minutes", max: LicenseLimits.maxMinutes)
        sessions = try reader.int("sessions", max: LicenseLimits.maxCount)
        concurrent = try reader.int("concurrent", max: LicenseLimits.maxConcurrent)
        devices = try reader.int("devices", max: LicenseLimits.maxCount)
        dailyMinutes = try reader.number("daily_minutes", max: LicenseLimits.maxMinutes)
        ipAllowlist = try LicenseLimits.allowlist(reader)
        notes = try reader.string("notes", maxLength: LicenseLimits.notesLength, text: .multiline)
        startsAt = try reader.timestamp("starts_at")
        expiryFromFirstUse = try reader.bool("expiry_from_first_use")
        provider = try LicenseLimits.provider(reader)
        chat = try LicenseLimits.chat(reader)
        if days == 0 {
            throw RequestValidationError(.invalidValue, field: "days", "Field 'days' must be at least 1.")
        }
    }

    /// The JSON body the admin API accepts, for the CLI talking to a remote central.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["plan": .string(plan), "customer_name": .string(customerName)]
        object["customer_email"] = customerEmail.map(JSONValue.string)
        object["days"] = days.map { .number(Double($0)) }
        object["minutes"] = minutes.map(JSONValue.number)
        object["sessions"] = sessions.map { .number(Double($0)) }
        object["concurrent"] = concurrent.map { .number(Double($0)) }
        object["devices"] = devices.map { .number(Double($0)) }
        object["daily_minutes"] = dailyMinutes.map(JSONValue.number)
        object["ip_allowlist"] = ipAllowlist.map { .array($0.entries.map(JSONValue.string)) }
        object["notes"] = notes.map(JSONValue.string)
        object["starts_at"] = startsAt.map { .string(WireCoding.formatTimestamp($0)) }
        object["expiry_from_first_use"] = expiryFromFirstUse.map(JSONValue.bool)
        object["provider"] = provider.map(JSONValue.string)
        object["chat"] = chat?.json
        return .object(object)
    }
}

/// Bounds shared by create and update, so both refuse the same inputs the same way.
enum LicenseLimits {
    static let nameLength = 200
    static let emailLength = 254
    static let planLength = 64
    static let notesLength = 2000
    static let maxDays = 3650
    static let maxMinutes = 10_000_000.0
    static let maxCount = 1_000_000
    static let maxConcurrent = 10_000
    static let maxAllowlistEntries = 100

    static func email(_ reader: JSONObjectReader) throws(RequestValidationError) -> String? {
        guard let email = try reader.string("customer_email", maxLength: emailLength) else { return nil }
        guard email.isEmpty || (email.contains("@") && !email.contains(where: \.isWhitespace)) else {
            throw RequestValidationError(.invalidValue, field: "customer_email", "Field 'customer_email' is not an email address.")
        }
        return email.isEmpty ? nil : email
    }

    /// A provider central knows (whether or not this central runs it now: a license may name
    /// one before it is enabled; its sessions are refused until then).
    static func provider(_ reader: JSONObjectReader) throws(RequestValidationError) -> String? {
        guard let name = try reader.string("provider", maxLength: 32) else { return nil }
        guard ProviderKind.named(name) != nil else {
            throw RequestValidationError(
                .invalidValue, field: "provider", "Field 'provider' must be one of: \(ProviderKind.names.joined(separator: ", ")).")
        }
        return name
    }

    /// The `chat` object (a chat quota), checked field by field; absent or null: none given.
    static func chat(_ reader: JSONObjectReader) throws(RequestValidationError) -> ChatQuota? {
        guard let value = reader.fields["chat"], value != .null else { return nil }
        return try ChatQuota(json: value, field: "chat")
    }

    static func allowlist(_ reader: JSONObjectReader) throws(RequestValidationError) -> IPAllowlist? {
        guard let entries = try reader.stringArray("ip_allowlist", maxCount: maxAllowlistEntries, maxLength: 64) else {
            return nil
        }
        switch IPAllowlist.parse(entries) {
        case .success(let list): return list
        case .failure(let invalid):
            throw RequestValidationError(.invalidValue, field: "ip_allowlist", "'\(invalid.entry)' is not an IPv4 or IPv6 CIDR block.")
        }
    }
}
