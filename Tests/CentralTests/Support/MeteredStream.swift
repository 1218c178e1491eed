@testable import Central
import Foundation
import Protocol

/// A stream session driven straight against a store the way the stream core drives it: opened
/// on a lease, checkpointed at rising watermarks, closed. Tests bill usage this way, through the
/// product's own billing path, never around it.
struct MeteredStream: Sendable {
    let store: any MeteringStore
    let record: StreamSessionRecord

    var id: String { record.id }
    var licenseID: String { record.licenseID }

    /// Opens a live session. Without `leaseID` it names a lease that does not exist: its
    /// checkpoints bill, but reserve nothing.
    static func open(
        on store: any MeteringStore, licenseID: String, leaseID: String? = nil, device: String = "device-1",
        id: String = "sess_" + UUID().uuidString, owner: String? = nil, now: Date
    ) async throws -> MeteredStream {
        let record = StreamSessionRecord(
            id: id, licenseID: licenseID, leaseID: leaseID ?? "lease_none_" + UUID().uuidString,
            deviceFingerprint: device, clientIP: "198.51.100.7", provider: "demo", sourceLanguage: "zh",
            targetLanguage: "en", status: .live, startedAt: now, firstAudioAt: nil, lastCheckpointAt: nil,
            billedMs: 0, lastSequence: -1, endedAt: nil, stopReason: nil, owner: owner)
        try await store.openStreamSession(record)
        return MeteredStream(store: store, record: record)
    }

    /// The checkpoint the stream core would ask for once `acceptedMs` of audio (in 20 ms frames)
    /// has been accepted.
    func request(acceptedMs: Int64, reserveMs: Int64 = 0, leaseTTL: TimeInterval = 30, owner: String? = nil) -> CheckpointRequest {
        CheckpointRequest(
            sessionID: id, acceptedMs: acceptedMs, lastSequence: max(-1, acceptedMs / 20 - 1), reserveMs: reserveMs,
            leaseTTL: leaseTTL, owner: owner)
    }

    /// One checkpoint, through `connection` when given (another connection to the same database).
    func checkpoint(
        acceptedMs: Int64, reserveMs: Int64 = 0, leaseTTL: TimeInterval = 30, owner: String? = nil, now: Date,
        via connection: (any MeteringStore)? = nil
    ) async throws -> CheckpointResult {
        let request = request(acceptedMs: acceptedMs, reserveMs: reserveMs, leaseTTL: leaseTTL, owner: owner)
        guard let result = try await (connection ?? store).checkpointStreamSessions([request], now: now)[id] else {
            throw StoreError.corruptRow("no stream session \(id)")
        }
        return result
    }

    func close(_ reason: ErrorCode = .clientStop, owner: String? = nil, now: Date) async throws {
        try await store.closeStreamSession(id: id, owner: owner, reason: reason, now: now)
    }
}

extension MeteringStore {
    /// Bills `ms` of audio to a license as one whole session (opened, checkpointed once, closed),
    /// which also counts as a session at its first audio.
    @discardableResult
    func meter(licenseID: String, ms: Int64, now: Date) async throws -> CheckpointResult {
        let stream = try await MeteredStream.open(on: self, licenseID: licenseID, now: now)
        let result = try await stream.checkpoint(acceptedMs: ms, now: now)
        try await stream.close(now: now)
        return result
    }
}
