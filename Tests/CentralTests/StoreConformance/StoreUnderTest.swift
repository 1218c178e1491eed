@testable import Central
import Foundation
import Protocol
import Testing

/// One fresh store as the conformance suite drives it: only through the `CentralStore`
/// protocols, on a manual clock, with more connections to the same database on demand.
struct StoreUnderTest: Sendable {
    let store: any CentralStore
    /// Another connection to the same database, as a second central process would hold.
    let anotherConnection: @Sendable () async throws -> any CentralStore
    let clock = ManualClock()
    let leaseTTL: TimeInterval = 30

    init(store: any CentralStore, anotherConnection: @escaping @Sendable () async throws -> any CentralStore) {
        self.store = store
        self.anotherConnection = anotherConnection
    }

    var now: Date { clock.now() }

    var administration: StoreLicenseAdministration {
        StoreLicenseAdministration(store: store, clock: clock, actor: AdminOperator(name: "test", ip: nil))
    }

    /// `count` connections: this one first, then others to the same database.
    func connections(_ count: Int) async throws -> [any CentralStore] {
        var connections: [any CentralStore] = [store]
        for _ in 1..<max(1, count) { connections.append(try await anotherConnection()) }
        return connections
    }

    func createLicense(_ adjust: (inout LicenseDraft) -> Void = { _ in }) async throws -> (key: String, id: String) {
        try await TestLicense.create(with: administration, adjust)
    }

    func admit(
        _ key: String, device: String = "device-1", ip: String = "198.51.100.7", holder: String? = nil,
        via connection: (any CentralStore)? = nil
    ) async throws -> AdmissionDecision {
        try await (connection ?? store).admit(
            AdmissionRequest(licenseKey: key, deviceFingerprint: device, clientIP: ip, holder: holder),
            keyHash: LicenseKey.hash(key), leaseTTL: leaseTTL, now: now)
    }

    /// The lease of an admission that must succeed.
    func lease(_ key: String, device: String = "device-1", ip: String = "198.51.100.7") async throws -> Lease {
        let decision = try await admit(key, device: device, ip: ip)
        guard case .admitted(let lease, _) = decision else {
            throw AdmissionFailed(code: decision.refusalCode)
        }
        return lease
    }

    /// A live stream on an admitted lease (its checkpoints may reserve).
    func stream(_ key: String, licenseID: String, device: String = "device-1", owner: String? = nil) async throws -> MeteredStream {
        let lease = try await lease(key, device: device)
        return try await MeteredStream.open(
            on: store, licenseID: licenseID, leaseID: lease.id, device: device, owner: owner, now: now)
    }

    func license(_ id: String) async throws -> License {
        try #require(try await store.license(id: id))
    }

    /// What the ledger's debits of a license add up to.
    func debitedMs(_ licenseID: String) async throws -> Int64 {
        try await store.ledger(licenseID: licenseID).filter { $0.kind == .debit }.reduce(0) { $0 + $1.amountMs }
    }

    struct AdmissionFailed: Error {
        let code: ErrorCode?
    }
}
