import Foundation
import Protocol

/// What the sessions of one checkpoint batch share, per license: read once per batch and
/// carried along, whichever store runs the batch.
struct CheckpointBatch {
    var licenses: [String: (license: License, deleted: Bool)] = [:]
    var usedToday: [String: Int64] = [:]
    var activeCounts: [String: Int] = [:]
    var reservedByLive: [String: Int64] = [:]
    /// The chat part of the quota, for licenses with chat quotas (read once per batch).
    var chat: [String: ChatQuotaSnapshot] = [:]
    /// Licenses billed in this batch: their new total and what the batch added (written at its end).
    var billed: [String: (usedMs: Int64, addedMs: Int64)] = [:]
}
