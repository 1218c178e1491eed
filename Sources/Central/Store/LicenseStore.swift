import Foundation
import Protocol

/// Plans, licenses and their bound devices.
public protocol LicenseStore: Sendable {
    func plans() async throws -> [Plan]
    func plan(named name: String) async throws -> Plan?
    func savePlan(_ plan: Plan, actor: AdminOperator, now: Date) async throws

    func insertLicense(_ license: License, keyHash: String, actor: AdminOperator) async throws
    func license(id: String) async throws -> License?
    func license(keyHash: String) async throws -> License?
    func listLicenses(_ filter: LicenseFilter) async throws -> LicensePage
    /// Applies `change` to the license in one transaction, writes a ledger credit when the
    /// limit moved and an audit entry. Returns nil when there is no such license.
    func modifyLicense(
        id: String, action: String, detail: String?, actor: AdminOperator, now: Date,
        _ change: @Sendable (inout License) throws -> Void
    ) async throws -> License?
    /// Soft delete: the license stops authenticating, its ledger stays for billing.
    func deleteLicense(id: String, actor: AdminOperator, now: Date) async throws -> Bool
    func devices(licenseID: String) async throws -> [BoundDevice]
    func resetDevices(licenseID: String, actor: AdminOperator, now: Date) async throws -> Int?
    func quota(for license: License, now: Date) async throws -> QuotaSnapshot
}
