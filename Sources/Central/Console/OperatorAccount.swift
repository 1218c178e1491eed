import Foundation

/// A named operator with a role. Their token is stored only as a hash; the token itself is
/// shown once, when the account is created.
public struct OperatorAccount: Codable, Sendable, Equatable {
    public var name: String
    public var role: OperatorRole
    public var createdAt: Date
    public var createdBy: String
    public var disabledAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, role
        case createdAt = "created_at"
        case createdBy = "created_by"
        case disabledAt = "disabled_at"
    }

    public init(name: String, role: OperatorRole, createdAt: Date, createdBy: String, disabledAt: Date? = nil) {
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.disabledAt = disabledAt
    }

    /// Names are shown in the audit trail and the console: letters, digits, `.`, `-`, `_`, `@`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_@".unicodeScalars.contains($0)) }
            // The shared admin token acts under these; a named operator cannot pose as it.
            && !["admin-token", "admin-api"].contains(name) && !name.hasPrefix("cli:")
            // `.` and `..` cannot be a path segment (`DELETE /v1/admin/operators/..`).
            && !name.allSatisfy { $0 == "." }
    }

    /// `op_` and 32 random bytes in hex: guessing is hopeless, and a leak scan recognises it.
    public static func generateToken() -> String {
        RandomIdentifier.make(prefix: "op_", words: 4)
    }
}

/// The operator behind an authenticated admin request.
public struct AuthenticatedOperator: Sendable, Equatable {
    public var name: String
    public var role: OperatorRole
    /// True for the shared admin token (its requests may name the person in `X-Actor`).
    public var sharedToken: Bool
}
