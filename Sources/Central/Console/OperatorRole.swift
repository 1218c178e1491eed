import Foundation

/// What an operator may do. Each role includes the ones below it: a viewer reads, an operator
/// also changes licenses and sessions, an admin also manages plans, provider keys, webhooks and
/// the operators themselves.
public enum OperatorRole: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer
    case `operator`
    case admin

    var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: OperatorRole, rhs: OperatorRole) -> Bool { lhs.rank < rhs.rank }
}

/// The role an admin API request needs, from its method and path alone: the rule lives here,
/// tested without a server, and the middleware only compares.
public enum ConsolePermission {
    /// Areas only an admin touches, even to read (they list people, secrets' metadata and endpoints).
    static let adminOnlyAreas: Set<String> = ["operators", "webhooks"]
    /// Areas whose changes need an admin (reading them is a viewer's).
    static let adminChangeAreas: Set<String> = ["plans", "provider-keys"]

    /// `path` is the part after `/v1/admin/` (no leading slash).
    public static func required(method: String, path: some StringProtocol) -> OperatorRole {
        let area = String(path.prefix { $0 != "/" })
        if adminOnlyAreas.contains(area) { return .admin }
        let reads = method == "GET" || method == "HEAD"
        if reads { return .viewer }
        if adminChangeAreas.contains(area) { return .admin }
        return .operator
    }
}
