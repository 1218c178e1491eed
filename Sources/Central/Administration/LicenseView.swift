import Foundation
import Protocol

/// A license as the admin API and the CLI show it. It never contains the key, only its prefix.
public struct LicenseView: Sendable, Equatable, Codable {
    public var id: String
    public var keyPrefix: String
    public var customerName: String
    public var customerEmail: String?
    public var plan: String
    public var status: LicenseStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var startsAt: Date
    public var expiresAt: Date?
    public var validityDays: Int
    public var expiryFromFirstUse: Bool
    public var limitMs: Int64
    public var usedMs: Int64
    public var remainingMs: Int64
    public var sessionLimit: Int?
    public var sessionsUsed: Int
    public var dailyCapMs: Int64?
    public var maxConcurrent: Int
    public var maxDevices: Int
    public var ipAllowlist: [String]
    public var notes: String
    public var lastUsedAt: Date?
    /// nil: the default provider.
    public var provider: String?
    /// The chat allowance; nil: no chat.
    public var chat: ChatQuota?
    /// Present on single-license responses.
    public var devices: [BoundDevice]?
    public var activeLeases: [Lease]?
    public var quota: QuotaSnapshot?

    init(_ license: License, devices: [BoundDevice]? = nil, activeLeases: [Lease]? = nil, quota: QuotaSnapshot? = nil) {
        id = license.id
        keyPrefix = license.keyPrefix
        customerName = license.customerName
        customerEmail = license.customerEmail
        plan = license.plan
        status = license.status
        createdAt = license.createdAt
        updatedAt = license.updatedAt
        startsAt = license.startsAt
        expiresAt = license.expiresAt
        validityDays = license.validityDays
        expiryFromFirstUse = license.expiryFromFirstUse
        limitMs = license.limitMs
        usedMs = license.usedMs
        remainingMs = license.remainingMs
        sessionLimit = license.sessionLimit
        sessionsUsed = license.sessionsUsed
        dailyCapMs = license.dailyCapMs
        maxConcurrent = license.maxConcurrent
        maxDevices = license.maxDevices
        ipAllowlist = license.ipAllowlist.entries
        notes = license.notes
        lastUsedAt = license.lastUsedAt
        provider = license.provider
        chat = license.chat
        self.devices = devices
        self.activeLeases = activeLeases
        self.quota = quota
    }

    enum CodingKeys: String, CodingKey {
        case id
        case keyPrefix = "key_prefix"
        case customerName = "customer_name"
        case customerEmail = "customer_email"
        case plan, status
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startsAt = "starts_at"
        case expiresAt = "expires_at"
        case validityDays = "validity_days"
        case expiryFromFirstUse = "expiry_from_first_use"
        case limitMs = "limit_ms"
        case usedMs = "used_ms"
        case remainingMs = "remaining_ms"
        case sessionLimit = "session_limit"
        case sessionsUsed = "sessions_used"
        case dailyCapMs = "daily_cap_ms"
        case maxConcurrent = "max_concurrent"
        case maxDevices = "max_devices"
        case ipAllowlist = "ip_allowlist"
        case notes
        case lastUsedAt = "last_used_at"
        case provider
        case chat
        case devices
        case activeLeases = "active_leases"
        case quota
    }
}

/// The answer to a create: the key, shown this once, and the license.
public struct CreatedLicense: Sendable, Codable {
    public var key: String
    public var license: LicenseView
}

public struct LicenseListing: Sendable, Codable {
    public var licenses: [LicenseView]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case licenses
        case nextCursor = "next_cursor"
    }
}

/// The state-changing operations an operator can apply to a license.
public enum LicenseAction: Sendable, Equatable {
    case suspend
    case resume
    case revoke
    case extend(days: Int)
    case topup(minutes: Double)
    case resetDevices

    /// The path segment in `POST /v1/admin/licenses/{id}/…` and the audit action name.
    public var name: String {
        switch self {
        case .suspend: "suspend"
        case .resume: "resume"
        case .revoke: "revoke"
        case .extend: "extend"
        case .topup: "topup"
        case .resetDevices: "reset-devices"
        }
    }
}

public enum AdministrationError: Error, Equatable, CustomStringConvertible {
    case licenseNotFound(String)
    case planNotFound(String)
    case invalidTransition(String)

    public var code: ErrorCode {
        switch self {
        case .licenseNotFound: .notFound
        case .planNotFound: .invalidValue
        case .invalidTransition: .invalidTransition
        }
    }

    public var message: String {
        switch self {
        case .licenseNotFound(let id): "No license with id '\(id)'."
        case .planNotFound(let name): "No plan named '\(name)'."
        case .invalidTransition(let message): message
        }
    }

    public var description: String { "\(code): \(message)" }
}
