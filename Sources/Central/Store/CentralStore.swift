import Foundation
import Protocol

/// Central's persistence seam: every role a store plays, and readiness. SQLite is the embedded
/// default; a PostgreSQL implementation serves several central instances. Each role is its own
/// protocol (`LicenseStore`, `AdmissionStore`, `MeteringStore`, `ProviderKeyStore`,
/// `AuditStore`, `InstanceStore`, `StreamTicketStore`, `ChatUsageStore`, `OperatorStore`, `ConsoleSessionStore`, `MinutesRequestStore`, `WebhookStore`) so a part of central asks only for what it uses, and every implementation
/// passes one conformance suite (Tests/CentralTests/StoreConformance). Every method that
/// changes state is one transaction; callers pass `now` so a store never reads a clock of its
/// own; the rules live in `AdmissionPolicy` and `MeteringPolicy`, never in SQL.
public protocol CentralStore: LicenseStore, AdmissionStore, MeteringStore, ProviderKeyStore, AuditStore, InstanceStore,
    StreamTicketStore, ChatUsageStore, OperatorStore, ConsoleSessionStore, MinutesRequestStore,
    WebhookStore
{
    /// Throws unless the database answers and every migration is applied.
    func checkReady() async throws
}

public struct LicenseFilter: Sendable, Equatable {
    public var status: LicenseStatus?
    public var plan: String?
    /// Matches id, key prefix, customer name, email and notes.
    public var query: String?
    public var limit: Int
    /// Opaque, from a previous page's `nextCursor`.
    public var cursor: String?

    public init(status: LicenseStatus? = nil, plan: String? = nil, query: String? = nil, limit: Int = 50, cursor: String? = nil) {
        self.status = status
        self.plan = plan
        self.query = query
        self.limit = limit
        self.cursor = cursor
    }
}

public struct LicensePage: Sendable {
    public var licenses: [License]
    public var nextCursor: String?
}

public struct AuditQuery: Sendable, Equatable {
    public var licenseID: String?
    public var limit: Int
    /// Entries older than this sequence number (for paging backwards).
    public var before: Int64?

    public init(licenseID: String? = nil, limit: Int = 100, before: Int64? = nil) {
        self.licenseID = licenseID
        self.limit = limit
        self.before = before
    }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    case notReady(String)
    /// A stored row that cannot be read back; refused rather than guessed at.
    case corruptRow(String)
    case invalidCursor
    case duplicateKey

    public var description: String {
        switch self {
        case .notReady(let why): "store not ready: \(why)"
        case .corruptRow(let what): "corrupt row: \(what)"
        case .invalidCursor: "invalid cursor"
        case .duplicateKey: "duplicate license key"
        }
    }
}
