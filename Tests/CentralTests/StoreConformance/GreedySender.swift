@testable import Central
import Foundation
import Protocol

/// A session that forwards all it holds before each checkpoint and stops when granted nothing,
/// as the stream core stops an exhausted stream.
struct GreedySender: Sendable {
    let stream: MeteredStream
    var acceptedMs: Int64 = 0
    var reservedMs: Int64 = 0
    var running = true
    var stoppedBy: ErrorCode?
    var violations: [String] = []

    var request: CheckpointRequest { stream.request(acceptedMs: acceptedMs, reserveMs: 2_000) }

    mutating func forward() { acceptedMs += reservedMs }

    mutating func take(_ result: CheckpointResult?, budgetMs: Int64) {
        guard let result else {
            violations.append("\(stream.id): no result")
            running = false
            return
        }
        if result.billedMs != acceptedMs { violations.append("\(stream.id): billed \(result.billedMs) of \(acceptedMs) ms forwarded") }
        let used = result.license?.usedMs ?? 0
        if used + result.reservedMs > budgetMs { violations.append("\(stream.id): \(used) ms used and \(result.reservedMs) ms reserved") }
        reservedMs = result.reservedMs
        if reservedMs == 0 {
            running = false
            stoppedBy = result.limitedBy
        }
    }
}
