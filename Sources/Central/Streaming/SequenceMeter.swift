/// Meters audio by sequence number: a frame is billed once, duplicates (replays after a
/// resume) are ignored, and frames that never arrived (a gap) are never billed.
///
/// Sequence numbers are 32-bit on the wire and never wrap: counting is done in 64 bits, a
/// frame that would jump further ahead than `maxForwardJump` is refused, and so is anything
/// once the last number has been used, so duplicate detection can never reset.
struct SequenceMeter: Sendable, Equatable {
    enum Classification: Equatable {
        /// The next frame, or one after `missing` frames the edge itself skipped.
        case new(missing: UInt32)
        /// Already metered; dropped.
        case duplicate
        /// Further ahead than any honest edge's buffer could skip: refused (`malformed_frame`).
        case jumpTooFar
        /// The sequence space is used up: nothing more can be metered without a wrap.
        case exhausted
    }

    /// About 164 s of the shortest (2.5 ms) frames: more than the resume window can lose.
    static let maxForwardJump: Int64 = 65_536

    /// The sequence number expected next (up to 2³², which means "no more").
    private(set) var nextSequence: Int64 = 0
    private(set) var acceptedMicroseconds: Int64 = 0

    init(nextSequence: Int64 = 0, acceptedMicroseconds: Int64 = 0) {
        self.nextSequence = nextSequence
        self.acceptedMicroseconds = acceptedMicroseconds
    }

    var acceptedMs: Int64 { acceptedMicroseconds / 1000 }
    /// The last accepted sequence number, or -1 before any.
    var lastSequence: Int64 { nextSequence - 1 }
    /// The next sequence number as the wire carries it (`started.next_sequence`).
    var nextWireSequence: UInt32 { UInt32(clamping: nextSequence) }

    func classify(_ sequence: UInt32) -> Classification {
        let value = Int64(sequence)
        if value < nextSequence { return nextSequence > Int64(UInt32.max) ? .exhausted : .duplicate }
        if value - nextSequence > Self.maxForwardJump { return .jumpTooFar }
        return .new(missing: UInt32(value - nextSequence))
    }

    /// Meters a frame `classify` called new; anything else changes nothing.
    @discardableResult
    mutating func meter(sequence: UInt32, durationMicroseconds: UInt32) -> Classification {
        let outcome = classify(sequence)
        guard case .new = outcome else { return outcome }
        nextSequence = Int64(sequence) + 1
        acceptedMicroseconds += Int64(durationMicroseconds)
        return outcome
    }
}
