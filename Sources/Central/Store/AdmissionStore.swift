import Foundation
import Protocol

/// Admission (`AdmissionPolicy` decides, the store persists the lease atomically with what it
/// read) and the leases that hold a license's concurrency.
public protocol AdmissionStore: Sendable {
    func admit(_ request: AdmissionRequest, keyHash: String, leaseTTL: TimeInterval, now: Date) async throws -> AdmissionDecision
    /// Extends an unexpired lease; nil when it is unknown or already lapsed.
    func renewLease(id: String, licenseID: String, leaseTTL: TimeInterval, now: Date) async throws -> Lease?
    func releaseLease(id: String, licenseID: String) async throws -> Bool
    func activeLeases(licenseID: String?, now: Date) async throws -> [Lease]
    func activeLeaseCount(now: Date) async throws -> Int
}
