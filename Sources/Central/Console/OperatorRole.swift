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
    /// Areas a viewer reads and an operator changes.
    static let operatorAreas: Set<String> = ["licenses", "sessions", "usage", "audit", "instances", "minutes-requests"]

    /// `path` is the request's path as sent (a query is ignored). Nil when it is not spelled the
    /// one way the API documents it: the router ignores empty segments (`/v1/admin//operators`
    /// reaches the operators' routes), so any other spelling could be read two ways and is
    /// refused. An area not listed here needs an admin.
    public static func required(method: String, path: some StringProtocol) -> OperatorRole? {
        let bare = path.prefix { $0 != "?" }
        let segments = bare.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 4, segments[0].isEmpty, segments[1] == "v1", segments[2] == "admin",
              segments.dropFirst().allSatisfy({ !$0.isEmpty && !isDotSegment($0) })
        else { return nil }
        let area = String(segments[3])
        if adminOnlyAreas.contains(area) { return .admin }
        guard operatorAreas.contains(area) || adminChangeAreas.contains(area) else { return .admin }
        let reads = method == "GET" || method == "HEAD"
        if reads { return .viewer }
        if adminChangeAreas.contains(area) { return .admin }
        return .operator
    }

    /// `.`, `..` and their percent-encoded spellings.
    private static func isDotSegment(_ segment: some StringProtocol) -> Bool {
        let decoded = segment.lowercased().replacingOccurrences(of: "%2e", with: ".")
        return decoded == "." || decoded == ".."
    }
}
