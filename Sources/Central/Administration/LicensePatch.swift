import Foundation
import Protocol

/// A partial update of a license (`PATCH`). A field that is absent stays as it is; for the
/// nullable limits, an explicit `null` removes the limit.
public struct LicensePatch: Sendable, Equatable {
    /// A change to a value that may also be cleared.
    public enum Change<Value: Sendable & Equatable>: Sendable, Equatable {
        case set(Value)
        case clear
    }

    public var customerName: String?
    public var customerEmail: Change<String>?
    public var plan: String?
    public var notes: String?
    public var minutes: Double?
    public var sessions: Change<Int>?
    public var dailyMinutes: Change<Double>?
    public var concurrent: Int?
    public var devices: Int?
    public var ipAllowlist: IPAllowlist?
    public var startsAt: Date?
    public var expiresAt: Date?
    /// `null` clears it: the license then streams to the default provider.
    public var provider: Change<String>?
    /// `null` removes the license's chat allowance.
    public var chat: Change<ChatQuota>?

    public init() {}

    static let fields: Set<String> = [
        "customer_name", "customer_email", "plan", "notes", "minutes", "sessions", "daily_minutes", "concurrent",
        "devices", "ip_allowlist", "starts_at", "expires_at", "provider", "chat",
    ]

    public init(json reader: JSONObjectReader) throws(RequestValidationError) {
        if reader.isNull("customer_name") {
            throw RequestValidationError(.invalidType, field: "customer_name", "Field 'customer_name' cannot be null.")
        }
        customerName = try reader.string("customer_name", maxLength: LicenseLimits.nameLength)
        if customerName?.trimmingCharacters(in: .whitespaces).isEmpty == true {
            throw RequestValidationError(.missingField, field: "customer_name", "Field 'customer_name' must not be empty.")
        }
        customerEmail = reader.isNull("customer_email") ? .clear : try LicenseLimits.email(reader).map(Change.set)
        plan = try reader.string("plan", maxLength: LicenseLimits.planLength)
        notes = try reader.string("notes", maxLength: LicenseLimits.notesLength, text: .multiline)
        minutes = try reader.number("minutes", max: LicenseLimits.maxMinutes)
        sessions = reader.isNull("sessions") ? .clear : try reader.int("sessions", max: LicenseLimits.maxCount).map(Change.set)
        dailyMinutes = reader.isNull("daily_minutes")
            ? .clear : try reader.number("daily_minutes", max: LicenseLimits.maxMinutes).map(Change.set)
        concurrent = try reader.int("concurrent", max: LicenseLimits.maxConcurrent)
        devices = try reader.int("devices", max: LicenseLimits.maxCount)
        ipAllowlist = try LicenseLimits.allowlist(reader)
        startsAt = try reader.timestamp("starts_at")
        expiresAt = try reader.timestamp("expires_at")
        provider = reader.isNull("provider") ? .clear : try LicenseLimits.provider(reader).map(Change.set)
        chat = reader.isNull("chat") ? .clear : try LicenseLimits.chat(reader).map(Change.set)
    }

    public var isEmpty: Bool { self == LicensePatch() }

    /// Field names that this patch changes, for the audit trail.
    var changedFields: [String] {
        var names: [String] = []
        if customerName != nil { names.append("customer_name") }
        if customerEmail != nil { names.append("customer_email") }
        if plan != nil { names.append("plan") }
        if notes != nil { names.append("notes") }
        if minutes != nil { names.append("minutes") }
        if sessions != nil { names.append("sessions") }
        if dailyMinutes != nil { names.append("daily_minutes") }
        if concurrent != nil { names.append("concurrent") }
        if devices != nil { names.append("devices") }
        if ipAllowlist != nil { names.append("ip_allowlist") }
        if startsAt != nil { names.append("starts_at") }
        if expiresAt != nil { names.append("expires_at") }
        if provider != nil { names.append("provider") }
        if chat != nil { names.append("chat") }
        return names
    }

    func apply(to license: inout License) {
        if let customerName { license.customerName = customerName }
        switch customerEmail {
        case .set(let email): license.customerEmail = email
        case .clear: license.customerEmail = nil
        case nil: break
        }
        if let plan { license.plan = plan }
        if let notes { license.notes = notes }
        if let minutes { license.limitMs = Milliseconds.fromMinutes(minutes) }
        switch sessions {
        case .set(let limit): license.sessionLimit = limit
        case .clear: license.sessionLimit = nil
        case nil: break
        }
        switch dailyMinutes {
        case .set(let cap): license.dailyCapMs = Milliseconds.fromMinutes(cap)
        case .clear: license.dailyCapMs = nil
        case nil: break
        }
        if let concurrent { license.maxConcurrent = concurrent }
        if let devices { license.maxDevices = devices }
        if let ipAllowlist { license.ipAllowlist = ipAllowlist }
        if let startsAt { license.startsAt = startsAt }
        if let expiresAt { license.expiresAt = expiresAt }
        switch provider {
        case .set(let name): license.provider = name
        case .clear: license.provider = nil
        case nil: break
        }
        switch chat {
        case .set(let quota): license.chat = quota
        case .clear: license.chat = nil
        case nil: break
        }
    }

    /// The JSON body the admin API accepts, for the CLI talking to a remote central.
    public var json: JSONValue {
        func change<V>(_ c: Change<V>?, _ encode: (V) -> JSONValue) -> JSONValue? {
            switch c {
            case .set(let v): encode(v)
            case .clear: .null
            case nil: nil
            }
        }
        var object: [String: JSONValue] = [:]
        object["customer_name"] = customerName.map(JSONValue.string)
        object["customer_email"] = change(customerEmail, JSONValue.string)
        object["plan"] = plan.map(JSONValue.string)
        object["notes"] = notes.map(JSONValue.string)
        object["minutes"] = minutes.map(JSONValue.number)
        object["sessions"] = change(sessions) { .number(Double($0)) }
        object["daily_minutes"] = change(dailyMinutes, JSONValue.number)
        object["concurrent"] = concurrent.map { .number(Double($0)) }
        object["devices"] = devices.map { .number(Double($0)) }
        object["ip_allowlist"] = ipAllowlist.map { .array($0.entries.map(JSONValue.string)) }
        object["starts_at"] = startsAt.map { .string(WireCoding.formatTimestamp($0)) }
        object["expires_at"] = expiresAt.map { .string(WireCoding.formatTimestamp($0)) }
        object["provider"] = change(provider, JSONValue.string)
        object["chat"] = change(chat, \.json)
        return .object(object)
    }
}
