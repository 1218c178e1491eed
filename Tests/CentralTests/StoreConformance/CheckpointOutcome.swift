@testable import Central
import Foundation
import Protocol

/// What of a checkpoint's result two stores (or two runs) must agree on: everything but ids.
struct CheckpointOutcome: Equatable {
    var billedMs: Int64
    var appliedMs: Int64
    var reservedMs: Int64
    var limitedBy: ErrorCode
    var countedSession: Bool
    var leaseHeld: Bool
    var usedMs: Int64?
    var sessionsUsed: Int?
    var quota: QuotaSnapshot?
}

extension CheckpointResult {
    var outcome: CheckpointOutcome {
        CheckpointOutcome(
            billedMs: billedMs, appliedMs: appliedMs, reservedMs: reservedMs, limitedBy: limitedBy,
            countedSession: countedSession, leaseHeld: leaseHeld, usedMs: license?.usedMs,
            sessionsUsed: license?.sessionsUsed, quota: quota)
    }
}
