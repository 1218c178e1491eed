import Foundation
import Protocol
import Synchronization

/// The part of a live session that every audio frame touches, behind one lock: the sequence
/// meter, what the license granted (bill + reservation), the pace, the ack counter. The event
/// loop that reads a frame decides here, synchronously, whether it is forwarded; the session
/// actor (checkpoints, control messages, stop) reads and updates the same state. No task
/// switch and no actor hop per frame.
final class StreamAudioIntake: Sendable {
    struct State {
        var meter = SequenceMeter()
        /// Accepted audio (µs) the session may reach: its billed total plus its reservation.
        var grantedMicroseconds: Int64 = 0
        var billedMs: Int64 = 0
        /// The number of the connection now bound; frames from another are not taken.
        var connection = 0
        var stopped = false
        var lastInboundAt: Date
        var lastPaceWarningAt: Date?
        var framesSinceAck = 0
        var firstAudioSeen = false
    }

    /// What to do with one frame.
    enum Verdict: Equatable {
        /// Taken by the provider and metered. `ack` when one is due; `firstAudio` once per session.
        case accepted(ack: AckMessage?, firstAudio: Bool, missing: UInt32)
        case duplicate
        /// Not accepted; the edge is told (non-fatal).
        case rejected(ProtocolError)
        /// Beyond the pace allowance; `warn` at most once a second.
        case tooFast(warn: Bool)
        /// The reservation is spent: hold the frame until the session has asked for more.
        case needsReservation
        /// The provider's queue is full: hold the frame and retry.
        case providerFull
        /// The session stopped or another connection took it over.
        case closed
    }

    private let state: Mutex<State>
    let startedAt: Date
    let paceAllowanceMs: Int64
    let framesPerAck: Int

    /// `meter` and `billedMs` are where a session taken over from another instance goes on (the
    /// stored watermark); a new session starts from zero.
    init(
        startedAt: Date, grantedMicroseconds: Int64, paceAllowanceMs: Int64, framesPerAck: Int,
        meter: SequenceMeter = SequenceMeter(), billedMs: Int64 = 0, firstAudioSeen: Bool = false, now: Date? = nil
    ) {
        self.startedAt = startedAt
        self.paceAllowanceMs = paceAllowanceMs
        self.framesPerAck = framesPerAck
        var initial = State(lastInboundAt: now ?? startedAt)
        initial.grantedMicroseconds = grantedMicroseconds
        initial.meter = meter
        initial.billedMs = billedMs
        initial.firstAudioSeen = firstAudioSeen
        state = Mutex(initial)
    }

    /// Meters one frame and, if the license and the pace allow it, hands it to `forward` (the
    /// provider's non-blocking send). Only a frame `forward` took is metered, and so acked.
    func take(
        _ frame: AudioFrame, connection: Int, now: Date, forward: (AudioFrame) -> Bool
    ) -> Verdict {
        state.withLock { state in
            state.lastInboundAt = now
            guard !state.stopped, connection == state.connection else { return .closed }
            switch state.meter.classify(frame.sequence) {
            case .new: break
            case .duplicate: return .duplicate
            case .jumpTooFar:
                return .rejected(ProtocolError(
                    .malformedFrame,
                    "Frame \(frame.sequence) jumps more than \(SequenceMeter.maxForwardJump) past \(state.meter.nextSequence); it was not accepted."))
            case .exhausted:
                return .rejected(ProtocolError(.malformedFrame, "The sequence numbers are used up; start a new session."))
            }
            let reaching = state.meter.acceptedMicroseconds + Int64(frame.durationMicroseconds)
            let elapsed = Int64(max(0, now.timeIntervalSince(startedAt)) * 1_000_000)
            switch MeteringPolicy.frameAllowance(
                reachingMicroseconds: reaching, grantedMicroseconds: state.grantedMicroseconds,
                elapsedMicroseconds: elapsed, paceAllowanceMs: paceAllowanceMs)
            {
            case .tooFast:
                // One error a second is enough for the edge to notice; the frames are simply not taken.
                if let last = state.lastPaceWarningAt, now.timeIntervalSince(last) < 1 { return .tooFast(warn: false) }
                state.lastPaceWarningAt = now
                return .tooFast(warn: true)
            case .needsReservation:
                return .needsReservation
            case .allowed:
                break
            }
            guard forward(frame) else { return .providerFull }
            var missing: UInt32 = 0
            if case .new(let gap) = state.meter.meter(sequence: frame.sequence, durationMicroseconds: frame.durationMicroseconds) {
                missing = gap
            }
            let firstAudio = !state.firstAudioSeen
            state.firstAudioSeen = true
            state.framesSinceAck += 1
            var ack: AckMessage?
            if state.framesSinceAck >= framesPerAck {
                ack = Self.ack(&state)
            }
            return .accepted(ack: ack, firstAudio: firstAudio, missing: missing)
        }
    }

    /// Whether a frame reaching `microseconds` of accepted audio is inside the grant now.
    func isGranted(reachingMicroseconds microseconds: Int64) -> Bool {
        state.withLock { $0.stopped || microseconds <= $0.grantedMicroseconds }
    }

    /// The accepted audio a frame of `durationMicroseconds` would reach.
    func reaching(adding durationMicroseconds: UInt32) -> Int64 {
        state.withLock { $0.meter.acceptedMicroseconds + Int64(durationMicroseconds) }
    }

    /// A checkpoint's answer: the new bill and what the session may reach.
    func grant(billedMs: Int64, reservedMs: Int64) {
        state.withLock { state in
            state.billedMs = billedMs
            state.grantedMicroseconds = (billedMs + reservedMs) * 1000
        }
    }

    /// Binds a new connection (a resume takes the session over) and returns its number.
    func bindConnection(now: Date) -> Int {
        state.withLock { state in
            state.connection += 1
            state.lastInboundAt = now
            return state.connection
        }
    }

    func noteInbound(at now: Date) {
        state.withLock { $0.lastInboundAt = now }
    }

    /// Stops taking frames. Returns false when it had already stopped.
    func stop() -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.stopped = true
            return true
        }
    }

    /// An ack for everything metered so far (nil before the first frame); resets the counter.
    func takeAck() -> AckMessage? {
        state.withLock { Self.ack(&$0) }
    }

    private static func ack(_ state: inout State) -> AckMessage? {
        state.framesSinceAck = 0
        guard state.meter.lastSequence >= 0 else { return nil }
        return AckMessage(lastSequence: UInt32(clamping: state.meter.lastSequence), billedMs: state.billedMs)
    }

    /// What a checkpoint records: the metered watermark.
    var watermark: (acceptedMs: Int64, lastSequence: Int64) {
        state.withLock { ($0.meter.acceptedMs, $0.meter.lastSequence) }
    }

    var snapshot: State { state.withLock { $0 } }
}
