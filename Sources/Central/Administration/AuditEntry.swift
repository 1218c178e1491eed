import Foundation

/// Who did what to which license, when, and from where.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var sequence: Int64
    public var at: Date
    public var actor: String
    public var ip: String?
    public var action: String
    public var licenseID: String?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case sequence
        case at
        case actor
        case ip
        case action
        case licenseID = "license_id"
        case detail
    }
}

/// The operator behind an administrative change.
public struct AdminOperator: Sendable, Equatable {
    public var name: String
    public var ip: String?

    public init(name: String, ip: String?) {
        self.name = name
        self.ip = ip
    }
}
