import Foundation
import Protocol

/// Central's persistence seam. SQLite is the embedded default; a PostgreSQL implementation
/// serves several central instances. Every method that changes state is one transaction, and
/// callers pass `now` so that the store never reads a clock of its own.
public protocol CentralStore: Sendable {
    /// Throws unless the database answers and every migration is applied.
    func checkReady() async throws

    // Plans.
    func plans() async throws -> [Plan]
    func plan(named name: String) async throws -> Plan?
    func savePlan(_ plan: Plan, actor: Actor, now: Date) async throws

    // Licenses.
    func insertLicense(_ license: License, keyHash: String, actor: Actor) async throws
    func license(id: String) async throws -> License?
    func license(keyHash: String) async throws -> License?
    func listLicenses(_ filter: LicenseFilter) async throws -> LicensePage
    /// Applies `change` to the license in one transaction, writes a ledger credit when the
    /// limit moved and an audit entry. Returns nil when there is no such license.
    func modifyLicense(
        id: String, action: String, detail: String?, actor: Actor, now: Date,
        _ change: @Sendable (inout License) throws -> Void
    ) async throws -> License?
    /// Soft delete: the license stops authenticating, its ledger stays for billing.
    func deleteLicense(id: String, actor: Actor, now: Date) async throws -> Bool
    func devices(licenseID: String) async throws -> [BoundDevice]
    func resetDevices(licenseID: String, actor: Actor, now: Date) async throws -> Int?
    func quota(for license: License, now: Date) async throws -> QuotaSnapshot

    // Admission and leases.
    func admit(_ request: AdmissionRequest, keyHash: String, leaseTTL: TimeInterval, now: Date) async throws -> AdmissionDecision
    /// Extends an unexpired lease; nil when it is unknown or already lapsed.
    func renewLease(id: String, licenseID: String, leaseTTL: TimeInterval, now: Date) async throws -> Lease?
    func releaseLease(id: String, licenseID: String) async throws -> Bool
    func activeLeases(licenseID: String?, now: Date) async throws -> [Lease]
    func activeLeaseCount(now: Date) async throws -> Int

    // Usage.
    func debit(_ request: DebitRequest, now: Date) async throws -> DebitResult
    /// Counts a session against the session quota once, however often it is called for the same id.
    func recordSessionStart(licenseID: String, sessionID: String, now: Date) async throws -> Bool
    func ledger(licenseID: String) async throws -> [LedgerEntry]
    func usage(_ query: UsageQuery) async throws -> UsageReport

    // Streaming sessions.
    func openStreamSession(_ session: StreamSessionRecord) async throws
    /// Bills the session up to `acceptedMs` of audio in one transaction: debits only what exceeds
    /// the stored watermark (so a replayed checkpoint changes nothing), never past the limit, and
    /// counts the session against the session quota at its first audio. It then reserves up to
    /// `reserveMs` more of the license's shared balance for the session (`StreamBudgetPolicy`),
    /// replacing the previous reservation; 0 gives it back. The same transaction renews the
    /// session's lease for `leaseTTL` if it still exists.
    func checkpointStreamSession(
        id: String, acceptedMs: Int64, lastSequence: Int64, reserveMs: Int64, leaseTTL: TimeInterval, now: Date
    ) async throws -> CheckpointResult
    /// The live stream session that holds this lease, if any.
    func liveStreamSession(leaseID: String) async throws -> StreamSessionRecord?
    func closeStreamSession(id: String, reason: ErrorCode, now: Date) async throws
    /// After a crash: closes every session still marked live (billing stays at its last
    /// checkpoint) and drops their leases. Returns how many it settled.
    func settleOpenStreamSessions(now: Date) async throws -> Int
    func streamSession(id: String) async throws -> StreamSessionRecord?
    func liveStreamSessions() async throws -> [StreamSessionRecord]

    // Audit.
    // Provider keys (secrets only as ciphertext) and provider-side usage.
    func insertProviderKey(_ key: ProviderKeyRecord) async throws
    func providerKeys() async throws -> [ProviderKeyRecord]
    func setProviderKeyStatus(id: String, status: ProviderKeyRecord.Status) async throws -> Bool
    func deleteProviderKey(id: String) async throws -> Bool
    func recordProviderKeyOutcome(id: String, outcome: ProviderKeyOutcome, now: Date) async throws
    /// The provider's own account of a session, beside our metering.
    func recordProviderUsage(sessionID: String, usage: ProviderUsage) async throws

    func audit(_ query: AuditQuery) async throws -> [AuditEntry]
    func appendAudit(action: String, licenseID: String?, detail: String?, actor: Actor, now: Date) async throws
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
