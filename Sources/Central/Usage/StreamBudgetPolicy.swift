import Foundation
import Protocol

/// What a license may spend on one streaming session right now.
///
/// A license's balance (total and today's) is shared by all its live sessions. A session
/// forwards audio only inside a *reservation* carved out of that balance; what other live
/// sessions hold is not available to it. The store keeps each session's reservation, so the
/// rule holds across every connection and every process that shares the database.
struct StreamBudget: Sendable, Equatable {
    /// Milliseconds this checkpoint bills (never more than was asked).
    var billMs: Int64
    /// Milliseconds the session may accept beyond its new billed total.
    var reservedMs: Int64
    /// What binds the reservation when it is smaller than asked for: the total or the daily cap.
    var limitedBy: ErrorCode
}

/// The billing and reservation rule of a checkpoint, as one pure function so every store
/// applies it identically and it can be tested without a database.
enum StreamBudgetPolicy {
    /// Below this a remainder is not split further (a few frames).
    static let minimumShareMs: Int64 = 100

    /// - Parameters:
    ///   - license: the license as the transaction read it (its `usedMs` before this bill).
    ///   - usedTodayMs: today's billed usage before this bill.
    ///   - unbilledMs: audio the session accepted beyond its billed watermark.
    ///   - heldMs: the reservation the session held until now (it may bill inside it even
    ///     when the balance has meanwhile been lowered by an operator).
    ///   - othersReservedMs: what the license's other live sessions hold.
    ///   - wantedMs: the reservation the session asks for next (0 when it is closing).
    static func decide(
        license: License, usedTodayMs: Int64, unbilledMs: Int64, heldMs: Int64, othersReservedMs: Int64,
        wantedMs: Int64
    ) -> StreamBudget {
        let totalFree = license.limitMs - license.usedMs - othersReservedMs
        let dailyFree = license.dailyCapMs.map { $0 - usedTodayMs - othersReservedMs }
        // Audio already forwarded is billed: inside the session's own reservation always, and
        // beyond it only as far as the shared balance goes; the ledger never passes the limit.
        let free = min(totalFree, dailyFree ?? .max)
        let bill = max(0, min(unbilledMs, max(heldMs, free), license.limitMs - license.usedMs))
        guard wantedMs > 0 else {
            return StreamBudget(billMs: bill, reservedMs: 0, limitedBy: .minutesExhausted)
        }
        let totalLeft = max(0, totalFree - bill)
        var left = totalLeft
        var limitedBy = ErrorCode.minutesExhausted
        if let dailyFree, max(0, dailyFree - bill) < totalLeft {
            left = max(0, dailyFree - bill)
            limitedBy = .dailyLimitReached
        }
        // Never more than half of what is free, so the license's other sessions (and the next
        // one to start) always find a share; tiny remainders go whole.
        let share = left <= minimumShareMs ? left : max(minimumShareMs, left / 2)
        // The session may already have forwarded audio inside its previous reservation since it
        // read the watermark it reports (frames go on while a checkpoint is in flight), so the new
        // reservation never shrinks below what this bill left of the previous one: that exposure
        // stays counted and no other session can be granted it meanwhile. It is bounded by what
        // is free, which only binds when an operator lowered the balance below the reservations.
        let unspentHeld = min(max(0, heldMs - bill), left)
        return StreamBudget(billMs: bill, reservedMs: max(min(wantedMs, share), unspentHeld), limitedBy: limitedBy)
    }
}
