@testable import Central
import Foundation
import Protocol

/// Licenses for tests: a value for the pure policies, or one created in a store.
enum TestLicense {
    /// The instant every pure policy test reasons from.
    static let epoch = Date(timeIntervalSince1970: 1_795_000_000)

    /// An active license valid from `epoch` for 30 days, without caps unless asked.
    static func value(
        id: String = "lic_test", limitMs: Int64 = 60_000, usedMs: Int64 = 0, dailyCapMs: Int64? = nil, sessionLimit: Int? = nil,
        sessionsUsed: Int = 0, status: LicenseStatus = .active, startsAt: Date = epoch,
        expiresAt: Date? = epoch.addingTimeInterval(30 * 86_400), expiryFromFirstUse: Bool = false,
        validityDays: Int = 30, maxConcurrent: Int = 4, maxDevices: Int = 4,
        ipAllowlist: IPAllowlist = IPAllowlist(blocks: [])
    ) -> License {
        License(
            id: id, keyPrefix: "SE-TEST", customerName: "T", customerEmail: nil, plan: "p", status: status,
            createdAt: startsAt, updatedAt: startsAt, startsAt: startsAt, expiresAt: expiresAt,
            validityDays: validityDays, expiryFromFirstUse: expiryFromFirstUse, limitMs: limitMs, usedMs: usedMs,
            sessionLimit: sessionLimit, sessionsUsed: sessionsUsed, dailyCapMs: dailyCapMs,
            maxConcurrent: maxConcurrent, maxDevices: maxDevices, ipAllowlist: ipAllowlist, notes: "", lastUsedAt: nil)
    }

    /// Creates a license from the trial-basic plan, adjusted; returns its key and id.
    static func create(
        with administration: StoreLicenseAdministration, _ adjust: (inout LicenseDraft) -> Void = { _ in }
    ) async throws -> (key: String, id: String) {
        var draft = LicenseDraft(plan: "trial-basic", customerName: "Test Customer")
        adjust(&draft)
        let created = try await administration.createLicense(draft)
        return (created.key, created.license.id)
    }
}
