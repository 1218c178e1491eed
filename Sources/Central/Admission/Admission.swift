import Foundation
import Protocol

/// Who asks to stream: the key as presented, the device, and the address the request came from.
public struct AdmissionRequest: Sendable {
    public var licenseKey: String
    public var deviceFingerprint: String
    public var clientIP: String
    /// Free text naming the lease holder (for example an edge's host name), shown to operators.
    public var holder: String?

    public init(licenseKey: String, deviceFingerprint: String, clientIP: String, holder: String? = nil) {
        self.licenseKey = licenseKey
        self.deviceFingerprint = deviceFingerprint
        self.clientIP = clientIP
        self.holder = holder
    }
}

/// A concurrency slot. It frees itself when `expiresAt` passes without a renewal.
public struct Lease: Sendable, Equatable, Codable {
    public var id: String
    public var licenseID: String
    public var deviceFingerprint: String
    public var holder: String?
    public var clientIP: String
    public var createdAt: Date
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case licenseID = "license_id"
        case deviceFingerprint = "device_fingerprint"
        case holder
        case clientIP = "client_ip"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }

    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next()
        let low: UInt64 = generator.next()
        return "lease_" + String(format: "%016llx%016llx", high, low)
    }
}

/// The one answer admission gives.
public enum AdmissionDecision: Sendable {
    case admitted(Lease, QuotaSnapshot)
    case refused(ErrorCode, License?)

    public var refusalCode: ErrorCode? {
        if case .refused(let code, _) = self { return code }
        return nil
    }
}
