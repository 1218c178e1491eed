import Foundation

/// Everything an operator can do. The HTTP admin API and the CLI's local mode use the
/// store-backed implementation; the CLI's `--url` mode uses the HTTP client implementation.
public protocol LicenseAdministration: Sendable {
    func createLicense(_ draft: LicenseDraft) async throws -> CreatedLicense
    func listLicenses(_ filter: LicenseFilter) async throws -> LicenseListing
    func license(id: String) async throws -> LicenseView
    func updateLicense(id: String, _ patch: LicensePatch) async throws -> LicenseView
    func deleteLicense(id: String) async throws
    func perform(_ action: LicenseAction, id: String) async throws -> LicenseView
    func usage(_ query: UsageQuery) async throws -> UsageReport
    /// Each session's three counts (edge, bill, provider), flagged beyond `thresholdMs`.
    func sessionAccounts(_ query: UsageQuery, thresholdMs: Int64, flaggedOnly: Bool) async throws -> SessionAccountReport
    func audit(_ query: AuditQuery) async throws -> [AuditEntry]
    func plans() async throws -> [Plan]
    func savePlan(_ plan: Plan) async throws -> Plan
}

/// Told about every administrative change to a license, so live streams can react
/// (the stream layer pushes quota and stops revoked licenses).
public protocol LicenseChangeObserver: Sendable {
    func licenseChanged(id: String) async
}
