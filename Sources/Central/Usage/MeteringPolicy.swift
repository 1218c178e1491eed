import Foundation
import Protocol

/// One session's checkpoint as the stream core asks for it: bill up to `acceptedMs`, reserve
/// `reserveMs` more (0 gives the reservation back), renew the lease for `leaseTTL`.
public struct CheckpointRequest: Sendable, Equatable {
    public var sessionID: String
    public var acceptedMs: Int64
    public var lastSequence: Int64
    public var reserveMs: Int64
    public var leaseTTL: TimeInterval
    /// The instance checkpointing. A session another instance has taken over is not billed,
    /// reserved or renewed by this one (`CheckpointResult.movedAway`). Nil: whoever owns it.
    public var owner: String?

    public init(
        sessionID: String, acceptedMs: Int64, lastSequence: Int64, reserveMs: Int64, leaseTTL: TimeInterval,
        owner: String? = nil
    ) {
        self.sessionID = sessionID
        self.acceptedMs = acceptedMs
        self.lastSequence = lastSequence
        self.reserveMs = reserveMs
        self.leaseTTL = leaseTTL
        self.owner = owner
    }
}

/// What a store read about a session and its license inside the checkpoint's transaction.
struct CheckpointFacts: Sendable {
    /// The license as the transaction read it (its `usedMs` before this checkpoint).
    var license: License
    var licenseDeleted: Bool
    var sessionLive: Bool
    /// The session's lease still existed (unexpired) and was renewed by this transaction.
    var leaseHeld: Bool
    /// The session's billed watermark and reservation before this checkpoint.
    var billedMs: Int64
    var heldReservationMs: Int64
    /// Whether the session's first audio was already recorded (and so counted as a session).
    var firstAudioRecorded: Bool
    var usedTodayMs: Int64
    /// What the license's other live sessions hold.
    var othersReservedMs: Int64
}

/// A debit the store appends to the ledger, as the policy decided it.
struct MeteredDebit: Sendable, Equatable {
    var requestedMs: Int64
    var amountMs: Int64
    var balanceBeforeMs: Int64
    var balanceAfterMs: Int64
    /// Names the watermark this debit reaches: unique per session and amount, so a replay is a no-op.
    var idempotencyKey: String
}

/// What a checkpoint does, decided from values alone.
struct CheckpointDecision: Sendable, Equatable {
    var debit: MeteredDebit?
    /// The session's billed watermark after this checkpoint.
    var billedMs: Int64
    var reservedMs: Int64
    var limitedBy: ErrorCode
    /// This checkpoint carries the session's first audio: it counts against the session quota.
    var countsSessionStart: Bool
    /// The license after the debit and the session count.
    var license: License
    var usedTodayMs: Int64
    /// The session may go on streaming (its lease, its record and the license allow it).
    var mayStream: Bool
}

/// The licensing and metering rules of a live stream, as functions of values: what a
/// checkpoint bills and reserves, when a session counts, and why a stream must stop. Stores
/// persist what it decides (SQLite now, PostgreSQL next); the stream core asks it why to stop.
/// `AdmissionPolicy` holds the rules of admission; `StreamBudgetPolicy` the sharing of a balance.
enum MeteringPolicy {
    static func checkpoint(_ request: CheckpointRequest, facts: CheckpointFacts, now: Date) -> CheckpointDecision {
        var license = facts.license
        let mayStream = facts.sessionLive && facts.leaseHeld && !facts.licenseDeleted
            && AdmissionPolicy.stateRefusal(license, now: now) == nil
        let unbilled = max(0, request.acceptedMs - facts.billedMs)
        let budget = StreamBudgetPolicy.decide(
            license: license, usedTodayMs: facts.usedTodayMs, unbilledMs: unbilled,
            heldMs: facts.heldReservationMs, othersReservedMs: facts.othersReservedMs,
            wantedMs: mayStream ? request.reserveMs : 0)
        var debit: MeteredDebit?
        if unbilled > 0, budget.billMs > 0 {
            let before = license.limitMs - license.usedMs
            license.usedMs += budget.billMs
            license.lastUsedAt = now
            debit = MeteredDebit(
                requestedMs: unbilled, amountMs: budget.billMs, balanceBeforeMs: before,
                balanceAfterMs: license.limitMs - license.usedMs,
                idempotencyKey: "stream:\(request.sessionID):upto:\(facts.billedMs + budget.billMs)")
        }
        // The session counts against the session quota at its first audio, once.
        let countsSessionStart = request.acceptedMs > 0 && !facts.firstAudioRecorded
        if countsSessionStart {
            license.sessionsUsed += 1
            license.lastUsedAt = now
        }
        return CheckpointDecision(
            debit: debit, billedMs: facts.billedMs + (debit?.amountMs ?? 0), reservedMs: budget.reservedMs,
            limitedBy: budget.limitedBy, countsSessionStart: countsSessionStart, license: license,
            usedTodayMs: facts.usedTodayMs + (debit?.amountMs ?? 0), mayStream: mayStream)
    }

    /// Why a live stream stops after a checkpoint, in the order the edge should hear it: the
    /// license's existence and state, the session's lease, the address, then the balance.
    static func stop(after result: CheckpointResult, clientIP: String, now: Date) -> (ErrorCode, String)? {
        if result.movedAway { return (.sessionMoved, "The session continues on another connection.") }
        guard let license = result.license, result.quota != nil else {
            return (.licenseNotFound, "The license was deleted.")
        }
        if let refusal = licenseStateStop(license, now: now) { return refusal }
        if let requested = result.stopRequested { return (requested, StreamStopSentence.requested(requested)) }
        guard result.leaseHeld else { return (.leaseLost, "The session's lease was released or lapsed.") }
        guard license.ipAllowlist.allows(clientIP) else {
            return (.ipNotAllowed, "This address is no longer allowed to use the license.")
        }
        if result.reservedMs == 0 { return (result.limitedBy, StreamStopSentence.exhausted(result.limitedBy)) }
        return nil
    }

    /// Why a stream may not open: the checkpoint that opens it granted nothing.
    static func openRefusal(after result: CheckpointResult) -> ProtocolError? {
        if result.quota == nil { return ProtocolError(.licenseNotFound, "The license no longer exists.") }
        if !result.leaseHeld {
            return ProtocolError(.leaseLost, "The session's lease was released or lapsed before the stream opened. Ask for admission again.")
        }
        if result.reservedMs == 0 { return ProtocolError(result.limitedBy, StreamStopSentence.exhausted(result.limitedBy)) }
        return nil
    }

    /// The license's own state ends a live stream (and refuses a stream or resume) as it
    /// refuses admission: one rule, `AdmissionPolicy.stateRefusal`.
    static func licenseStateStop(_ license: License, now: Date) -> (ErrorCode, String)? {
        AdmissionPolicy.stateRefusal(license, now: now).map { ($0, StreamStopSentence.licenseState($0)) }
    }

    /// Whether the audio a session accepted may reach `reachingMicroseconds`: inside what it
    /// has been granted (its bill plus its reservation) and inside the pace allowance (audio
    /// may run ahead of the wall clock since the session opened by the replay allowance).
    static func frameAllowance(
        reachingMicroseconds: Int64, grantedMicroseconds: Int64, elapsedMicroseconds: Int64, paceAllowanceMs: Int64
    ) -> FrameAllowance {
        if reachingMicroseconds > max(0, elapsedMicroseconds) + paceAllowanceMs * 1000 { return .tooFast }
        if reachingMicroseconds > grantedMicroseconds { return .needsReservation }
        return .allowed
    }
}

/// Whether one audio frame may be forwarded now.
enum FrameAllowance: Sendable, Equatable {
    case allowed
    /// It runs too far ahead of real time: refused, not forwarded.
    case tooFast
    /// The session's reservation is spent: it must ask the license's balance for more first.
    case needsReservation
}
